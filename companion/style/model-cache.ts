// Built ONNX models cached on disk, keyed by the weights hash and every option that changes the
// graph, so a second job skips building (~0.5 s and a 100 MB allocation). Best effort: a cache
// that cannot be written only costs a rebuild.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cacheDir } from "./weights";

/** Bump when a graph builder changes what it emits. */
export const GRAPH_VERSION = 4;
/** Keep this many models (each ~50–100 MB); the least recently used go first. */
const KEEP = 6;

export function modelCachePath(key: object): string {
  const digest = createHash("sha256")
    .update(JSON.stringify({ v: GRAPH_VERSION, ...key }))
    .digest("hex");
  return join(cacheDir(), "models", `${digest.slice(0, 32)}.onnx`);
}

/** The model for `key` from the cache, else built and stored. `refresh` skips the cached copy (corrupt). */
export async function cachedModel(
  key: object,
  build: () => Uint8Array,
  refresh = false,
): Promise<{ bytes: Uint8Array; hit: boolean }> {
  const path = modelCachePath(key);
  if (!refresh)
    try {
      const bytes = await readFile(path);
      const now = new Date();
      await utimes(path, now, now).catch(() => {});
      return { bytes, hit: true };
    } catch {
      // not cached (or unreadable): build it
    }
  const bytes = build();
  try {
    const dir = join(path, "..");
    await mkdir(dir, { recursive: true });
    const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, path); // atomic: a concurrent reader sees the old state or the whole file
    await prune(dir);
  } catch {
    // read-only or full disk: the job goes on without the cache
  }
  return { bytes, hit: false };
}

async function prune(dir: string): Promise<void> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".onnx"));
  if (files.length <= KEEP) return;
  const dated = await Promise.all(files.map(async (f) => ({ f, t: (await stat(join(dir, f))).mtimeMs })));
  dated.sort((a, b) => b.t - a.t);
  await Promise.all(dated.slice(KEEP).map(({ f }) => rm(join(dir, f), { force: true })));
}
