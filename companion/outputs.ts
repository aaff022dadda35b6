// Where the CLI writes each input's result. One input: -o names files, as always (repeat -o for
// several formats). Several inputs (a batch): each -o is a folder ("out/", written as
// out/<name><ext>) or a pattern with {name} ("out/{name}.svg"), {name} being the input's file
// name without its extension. Every path is worked out and checked before any work starts.
import { accessSync, constants, realpathSync, type Stats, statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { UserError } from "./errors";

const NAME = "{name}";

/** The input's base name without extension: what {name} stands for. */
const nameOf = (input: string) => basename(input, extname(input));

/** What is at `path`, or undefined when nothing is (also when a folder on the way is a file). */
function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw err;
  }
}

function kindOf(output: string): "folder" | "pattern" | "file" {
  const bare = output.replace(/[/\\]+$/, "");
  const slash = bare !== output;
  // a trailing slash on a file makes stat fail (ENOTDIR): look at the name without it
  const stat = statOf(bare || output);
  if (slash && stat && !stat.isDirectory()) {
    throw new UserError("bad-message", `-o "${output}" names a folder, but "${bare}" is a file`);
  }
  if (slash || stat?.isDirectory()) return "folder";
  return output.includes(NAME) ? "pattern" : "file";
}

/** The same file whatever the spelling (a link, "./a.png", a different case of the same path). */
function identity(path: string): string {
  const stat = statOf(path);
  if (stat) return `${stat.dev}:${stat.ino}`;
  try {
    return join(realpathSync(dirname(path)), basename(path));
  } catch {
    return resolve(path);
  }
}

/**
 * Refuses, before any work, a path that cannot be written: a file where a folder should be on
 * its way, a folder without write permission, or a folder at the path itself.
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
  } catch {
    throw new UserError("bad-message", `Cannot write "${path}": no permission to write there`);
  }
}

/**
 * The output paths for each input, in input order. `ext` is what a folder gets (".svg");
 * `check` refuses a path the command cannot write (a wrong extension). No output may be an input
 * or one of `reads` (the other files the command reads: styles, masks): a result never replaces
 * the picture it was made from.
 */
export function planOutputs(
  inputs: string[],
  outputs: string[],
  ext: string,
  check: (path: string) => void,
  reads: string[] = [],
): string[][] {
  if (outputs.length === 0) throw new UserError("bad-message", `give an output with -o (a file, or a folder "out/")`);
  const kinds = outputs.map(kindOf);
  if (inputs.length > 1) {
    const file = outputs.find((_, i) => kinds[i] === "file");
    if (file !== undefined) {
      throw new UserError(
        "bad-message",
        `With ${inputs.length} inputs, -o must be a folder ("out/") or a pattern with ${NAME} ("out/${NAME}${ext}"), not the one file "${file}"`,
      );
    }
  }
  const plan = inputs.map((input) =>
    outputs.map((o, i) => {
      if (kinds[i] === "folder") return join(o, `${nameOf(input)}${ext}`);
      return kinds[i] === "pattern" ? o.split(NAME).join(nameOf(input)) : o;
    }),
  );
  const read = new Map([...inputs, ...reads].map((path) => [identity(path), path]));
  for (const path of plan.flat()) {
    check(path);
    const source = read.get(identity(path));
    if (source !== undefined) {
      throw new UserError("bad-message", `-o "${path}" would overwrite "${source}", which this command reads`);
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
    const why = (err as NodeJS.ErrnoException).code === "ENOSPC" ? "the disk is full" : (err as Error).message;
    throw new UserError("bad-message", `Cannot write "${path}": ${why}`);
  }
}
