// Where the CLI writes each input's result. One input: -o names files, as always (repeat -o for
// several formats). Several inputs (a batch): each -o is a folder ("out/", written as
// out/<name><ext>) or a pattern with {name} ("out/{name}.svg"), {name} being the input's file
// name without its extension. Every path is worked out and checked before any work starts.
import { statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { UserError } from "./errors";

const NAME = "{name}";

/** The input's base name without extension: what {name} stands for. */
const nameOf = (input: string) => basename(input, extname(input));

function kindOf(output: string): "folder" | "pattern" | "file" {
  const bare = output.replace(/[/\\]+$/, "");
  const slash = bare !== output;
  // a trailing slash on a file makes stat fail (ENOTDIR): look at the name without it
  const stat = statSync(bare || output, { throwIfNoEntry: false });
  if (slash && stat && !stat.isDirectory()) {
    throw new UserError("bad-message", `-o "${output}" names a folder, but "${bare}" is a file`);
  }
  if (slash || stat?.isDirectory()) return "folder";
  return output.includes(NAME) ? "pattern" : "file";
}

/**
 * The output paths for each input, in input order. `ext` is what a folder gets (".svg");
 * `check` refuses a path the command cannot write (a wrong extension).
 */
export function planOutputs(
  inputs: string[],
  outputs: string[],
  ext: string,
  check: (path: string) => void,
): string[][] {
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
  for (const path of plan.flat()) check(path);
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
