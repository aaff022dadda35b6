// The GEMM tiles (and whether Winograd wins) measured for an adapter, kept across runs in the cache
// folder: the trial costs a second or two of the first job after every start otherwise. Keyed by the
// adapter and the candidate list, so a new driver, GPU or candidate list measures again; a damaged
// file is ignored.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Known, TILE_CANDIDATES } from "../../shared/style/webgpu/tiles";
import { cacheDir } from "./weights";

const file = () => join(cacheDir(), "webgpu-tiles.json");
/** Bump when the trial or the kernels change what it would choose (2: Winograd, per channel count). */
const TRIAL_VERSION = 2;
const keyOf = (adapter: string) => `${adapter} | trial ${TRIAL_VERSION} | ${JSON.stringify(TILE_CANDIDATES)}`;

async function readAll(): Promise<Record<string, Known>> {
  try {
    const data = JSON.parse(await readFile(file(), "utf8"));
    return data && typeof data === "object" ? data : {};
  } catch {
    return {}; // none yet, or damaged: measure again
  }
}

export async function knownTiles(adapter: string): Promise<Known | undefined> {
  const k = (await readAll())[keyOf(adapter)];
  const w = k?.winograd;
  return k?.tiles &&
    k.deepTiles &&
    typeof w?.wide === "boolean" &&
    typeof w.deep === "boolean" &&
    typeof w.minChannels === "number"
    ? k
    : undefined;
}

export async function rememberTiles(adapter: string, choice: Known): Promise<void> {
  const all = await readAll();
  all[keyOf(adapter)] = { tiles: choice.tiles, deepTiles: choice.deepTiles, winograd: choice.winograd };
  await mkdir(cacheDir(), { recursive: true });
  const tmp = `${file()}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(all, null, 1));
  await rename(tmp, file()); // atomic: two companions starting together never leave half a file
}
