// Where the CLI writes each input's result. One input: -o names files, as always (repeat -o for
// several formats). Several inputs (a batch): each -o is a folder ("out/", written as
// out/<name><ext>) or a pattern with {name} ("out/{name}.svg"), {name} being the input's file
// name without its extension. Every path is worked out and checked before any work starts.
import { accessSync, type BigIntStats, constants, realpathSync, statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { UserError } from "./errors";

const NAME = "{name}";

/** The input's base name without extension: what {name} stands for. */
const nameOf = (input: string) => basename(input, extname(input));

/** A file system error in plain words. */
function plainFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "EPERM") return "no permission to write there";
  if (code === "EROFS") return "the disk is read-only";
  if (code === "ENOSPC") return "the disk is full";
  if (code === "ELOOP") return "its symbolic links go round in a loop";
  return (err as Error).message;
}

/**
 * What is at `path`, or undefined when nothing is (also when a folder on the way is a file, or
 * cannot be looked into: the write or the read then says why, in its own words).
 */
function statOf(path: string): BigIntStats | undefined {
  try {
    return statSync(path, { bigint: true });
  } catch {
    return undefined;
  }
}

function kindOf(output: string, flag: string): "folder" | "pattern" | "file" {
  const bare = output.replace(/[/\\]+$/, "");
  const slash = bare !== output;
  // a trailing slash on a file makes stat fail (ENOTDIR): look at the name without it
  const stat = statOf(bare || output);
  if (slash && stat && !stat.isDirectory()) {
    throw new UserError("bad-message", `${flag} "${output}" names a folder, but "${bare}" is a file`);
  }
  if (slash || stat?.isDirectory()) return "folder";
  return output.includes(NAME) ? "pattern" : "file";
}

/**
 * The file at `path` whatever its spelling (a link, "./a.png", another case on a case-insensitive
 * disk), or undefined when there is none: a path with nothing there cannot be overwritten.
 */
function identity(path: string): string | undefined {
  const stat = statOf(path);
  if (!stat) return undefined;
  // some file systems (FAT, network shares) have no file numbers: the resolved path then
  if (stat.ino !== 0n) return `${stat.dev}:${stat.ino}`;
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Refuses, before any work, a path that cannot be written: a file where a folder should be on
 * its way, a folder without write permission, a read-only disk, or a folder at the path itself.
 */
function checkWritable(path: string): void {
  if (statOf(path)?.isDirectory()) throw new UserError("bad-message", `Cannot write "${path}": it is a folder`);
  let dir = dirname(resolve(path));
  let stat = statOf(dir);
  while (!stat && dirname(dir) !== dir) {
    dir = dirname(dir);
    stat = statOf(dir);
  }
  if (stat && !stat.isDirectory()) {
    throw new UserError("bad-message", `Cannot write "${path}": "${dir}" is a file, not a folder`);
  }
  try {
    accessSync(statOf(path) ? path : dir, constants.W_OK);
  } catch (err) {
    throw new UserError("bad-message", `Cannot write "${path}": ${plainFsError(err)}`);
  }
}

export interface PlanOptions {
  /** What a folder gets (".svg"). */
  ext: string;
  /** Refuses a path the command cannot write (a wrong extension). */
  check: (path: string) => void;
  /** The other files the command reads (styles, masks, a focus mask). */
  reads?: string[];
  /** The flag the outputs came from, for messages. */
  flag?: string;
}

/**
 * The output paths for each input, in input order. No output may be an input or one of `reads`:
 * a result never replaces the picture it was made from.
 */
export function planOutputs(inputs: string[], outputs: string[], opts: PlanOptions): string[][] {
  const { ext, check, reads = [], flag = "-o" } = opts;
  if (outputs.length === 0) throw new UserError("bad-message", `give an output with -o (a file, or a folder "out/")`);
  const kinds = outputs.map((o) => kindOf(o, flag));
  if (inputs.length > 1) {
    const file = outputs.find((_, i) => kinds[i] === "file");
    if (file !== undefined) {
      throw new UserError(
        "bad-message",
        `With ${inputs.length} inputs, ${flag} must be a folder ("out/") or a pattern with ${NAME} ("out/${NAME}${ext}"), not the one file "${file}"`,
      );
    }
  }
  const plan = inputs.map((input) =>
    outputs.map((o, i) => {
      if (kinds[i] === "folder") return join(o, `${nameOf(input)}${ext}`);
      return kinds[i] === "pattern" ? o.split(NAME).join(nameOf(input)) : o;
    }),
  );
  const read = new Map<string, string>();
  for (const path of [...inputs, ...reads]) {
    const id = identity(path);
    if (id !== undefined) read.set(id, path);
  }
  for (const path of plan.flat()) {
    check(path);
    const id = identity(path);
    const source = id === undefined ? undefined : read.get(id);
    if (source !== undefined) {
      throw new UserError("bad-message", `${flag} "${path}" would overwrite "${source}", which this command reads`);
    }
    checkWritable(path);
  }
  const writer = new Map<string, number>();
  plan.forEach((paths, i) => {
    for (const path of new Set(paths)) {
      const other = writer.get(path);
      if (other !== undefined) {
        throw new UserError("bad-message", `"${inputs[other]}" and "${inputs[i]}" would both be written to "${path}"`);
      }
      writer.set(path, i);
    }
  });
  return plan;
}

/** A folder named in -o may not exist yet: made when its first result is written. */
export async function ensureFolder(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
}

/** Writes a result (its folder made first); a failure the checks could not foresee, in plain words. */
export async function writeOutput(path: string, body: string | Uint8Array): Promise<void> {
  try {
    await ensureFolder(path);
    await writeFile(path, body);
  } catch (err) {
    throw new UserError("bad-message", `Cannot write "${path}": ${plainFsError(err)}`);
  }
}
