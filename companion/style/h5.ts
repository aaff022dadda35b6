// Minimal HDF5 reading on top of h5wasm: just what loading Keras weight files needs.
// h5wasm does not throw on a bad file (it prints HDF5 diagnostics and fails later with an obscure
// message), so the file is checked here first; the caller words whatever still goes wrong.
import { open } from "node:fs/promises";
import h5wasm, { type Dataset, type Entity, type File, type Group } from "h5wasm/node";

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

export type Hdf5Check =
  | { ok: true }
  | { ok: false; problem: "not-hdf5" }
  | { ok: false; problem: "truncated"; size: number; expected: number };

/**
 * Is this an HDF5 file, and a whole one? The superblock (at 0, 512, 1024… after an optional user
 * block; Keras writes it at 0) records the end-of-file address, so a partial copy shows up here
 * instead of as an obscure HDF5 error halfway through reading.
 */
export async function checkHdf5(path: string): Promise<Hdf5Check> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    const sb = Buffer.alloc(64);
    for (let at = 0; at + HDF5_SIGNATURE.length <= size && at <= 1 << 20; at = at === 0 ? 512 : at * 2) {
      const { bytesRead } = await fh.read(sb, 0, sb.length, at);
      if (!sb.subarray(0, 8).equals(HDF5_SIGNATURE)) continue;
      const eof = endOfFileAddress(sb.subarray(0, bytesRead));
      if (eof !== undefined && at + eof > size) return { ok: false, problem: "truncated", size, expected: at + eof };
      return { ok: true };
    }
    return { ok: false, problem: "not-hdf5" };
  } finally {
    await fh.close();
  }
}

/** The superblock's end-of-file address (relative to the base address), per the HDF5 format spec. */
function endOfFileAddress(sb: Buffer): number | undefined {
  const version = sb[8];
  // v0/v1: offset size at byte 13, addresses (base, free-space, EOF…) from 24 (v0) or 28 (v1).
  // v2/v3: offset size at byte 9, addresses (base, extension, EOF…) from 12.
  const offsetSize = version <= 1 ? sb[13] : sb[9];
  const first = version === 0 ? 24 : version === 1 ? 28 : 12;
  const at = first + 2 * offsetSize;
  if (version > 3 || (offsetSize !== 4 && offsetSize !== 8) || at + offsetSize > sb.length) return undefined;
  const eof = offsetSize === 8 ? sb.readBigUInt64LE(at) : BigInt(sb.readUInt32LE(at));
  // All ones means "undefined address".
  return eof >= BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(eof);
}

/** Open an HDF5 file read-only, run `fn`, always close. The caller runs `checkHdf5` first. */
export async function withH5File<T>(path: string, fn: (file: File) => T): Promise<T> {
  await h5wasm.ready;
  const file = new h5wasm.File(path, "r");
  try {
    return fn(file);
  } finally {
    file.close();
  }
}

export function isGroup(e: Entity | null): e is Group {
  return e instanceof h5wasm.Group;
}

export function isDataset(e: Entity | null): e is Dataset {
  return e instanceof h5wasm.Dataset;
}

/**
 * A string-list attribute as Keras writes it (h5py fixed-length byte strings, which h5wasm decodes).
 * Lists too big for one object header are split into `name0`, `name1`…, as Keras'
 * `load_attributes_from_hdf5_group` reads them.
 */
export function stringsAttr(e: Group, name: string): string[] | undefined {
  const read = (key: string) => {
    const v: unknown = e.get_attribute(key, true);
    return (Array.isArray(v) ? v.flat(2) : [v]).map((x: unknown) => String(x));
  };
  if (Object.hasOwn(e.attrs, name)) return read(name);
  const chunks: string[] = [];
  for (let i = 0; Object.hasOwn(e.attrs, `${name}${i}`); i++) chunks.push(...read(`${name}${i}`));
  return chunks.length ? chunks : undefined;
}

/** Every dataset under `group`, depth-first, with its path relative to `group`. */
export function datasetsUnder(group: Group, maxDepth = 4, prefix = ""): Array<[string, Dataset]> {
  const out: Array<[string, Dataset]> = [];
  for (const key of group.keys()) {
    const e = group.get(key);
    if (isDataset(e)) out.push([prefix + key, e]);
    else if (isGroup(e) && maxDepth > 0) out.push(...datasetsUnder(e, maxDepth - 1, `${prefix}${key}/`));
  }
  return out;
}

/** A dataset's values as float32, whatever float/int type it was stored with. */
export function float32Values(d: Dataset): Float32Array {
  const v = d.value;
  if (v instanceof Float32Array) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array || v instanceof BigUint64Array))
    return Float32Array.from(v as ArrayLike<number>);
  throw new Error(`dataset ${d.path} is not numeric (dtype ${JSON.stringify(d.dtype)})`);
}
