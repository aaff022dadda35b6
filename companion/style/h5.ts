// Minimal HDF5 reading on top of h5wasm: just what loading Keras weight files needs.
// h5wasm does not throw on a bad file (it prints HDF5 diagnostics and fails later), so the file
// is checked here first and every failure becomes a plain Error for the caller to word.
import { open } from "node:fs/promises";
import h5wasm, { type Dataset, type Entity, type File, type Group } from "h5wasm/node";

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The HDF5 superblock may sit at 0, 512, 1024, 2048… (a user block before it); Keras writes it at 0. */
export async function isHdf5(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    const buf = Buffer.alloc(HDF5_SIGNATURE.length);
    for (let at = 0; at + buf.length <= size && at <= 1 << 20; at = at === 0 ? 512 : at * 2) {
      await fh.read(buf, 0, buf.length, at);
      if (buf.equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } finally {
    await fh.close();
  }
}

/** Open an HDF5 file read-only, run `fn`, always close. The caller checks `isHdf5` first. */
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

/** A string-list attribute (h5py writes fixed-length byte strings; h5wasm decodes them). */
export function stringsAttr(e: Group, name: string): string[] | undefined {
  if (!Object.hasOwn(e.attrs, name)) return undefined;
  const v: unknown = e.get_attribute(name, true);
  const list: unknown[] = Array.isArray(v) ? v.flat(2) : [v];
  return list.map((x) => String(x));
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
