// Tiles measured for an adapter are kept across runs, per adapter and candidate list; a damaged
// file means measuring again; a kept choice is used without a trial.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { chooseTiles, SMALL_TRIAL, TILE_CANDIDATES } from "../../shared/style/webgpu/tiles";
import { knownTiles, rememberTiles } from "../../companion/style/tile-cache";

// No GPU here: the check of the fixed-tile kernels (run on every device, trial or not) answers as told.
const fixed = vi.hoisted(() => ({ right: true, winograd: true }));
vi.mock("../../shared/style/webgpu/tile-check", async (actual) => ({
  ...(await actual<typeof import("../../shared/style/webgpu/tile-check")>()),
  fixedTilesComputeRightly: async () => fixed.right,
  winogradComputesRightly: async () => fixed.winograd,
}));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "stylize-tiles-"));
  process.env.STYLIZE_CACHE_DIR = dir;
});

const choice = { tiles: TILE_CANDIDATES[1], deepTiles: TILE_CANDIDATES[0], winograd: { wide: true, deep: false } };

describe("tile cache", () => {
  it("remembers a choice per adapter", async () => {
    expect(await knownTiles("nvidia (hopper) NVIDIA H200")).toBeUndefined();
    await rememberTiles("nvidia (hopper) NVIDIA H200", choice);
    const apple = { tiles: TILE_CANDIDATES[0], deepTiles: TILE_CANDIDATES[0], winograd: { wide: false, deep: false } };
    await rememberTiles("apple (metal-3) Apple M3", apple);
    expect(await knownTiles("nvidia (hopper) NVIDIA H200")).toEqual(choice);
    expect(await knownTiles("amd (rdna-3) Radeon")).toBeUndefined();
  });

  it("a damaged file is ignored, then replaced", async () => {
    writeFileSync(join(dir, "webgpu-tiles.json"), "{not json");
    expect(await knownTiles("x")).toBeUndefined();
    await rememberTiles("x", choice);
    expect(await knownTiles("x")).toEqual(choice);
  });

  it("a choice kept before Winograd was measured is measured again", async () => {
    await rememberTiles("x", choice);
    const file = join(dir, "webgpu-tiles.json");
    const kept = JSON.parse(readFileSync(file, "utf8"));
    for (const k of Object.keys(kept)) delete kept[k].winograd;
    writeFileSync(file, JSON.stringify(kept));
    expect(await knownTiles("x")).toBeUndefined();
  });

  it("a kept choice that is still a candidate and fits is used without a trial", async () => {
    const limits = {
      maxComputeInvocationsPerWorkgroup: 256,
      maxComputeWorkgroupStorageSize: 32768,
      maxComputeWorkgroupSizeX: 256,
    };
    const device = { limits } as unknown as GPUDevice; // no GPU needed: nothing is measured
    const r = await chooseTiles(device, SMALL_TRIAL, choice);
    expect(r).toEqual({ ...choice, trials: [], deepTrials: [], winogradTrials: {} });
  });

  it("a kept Winograd is checked against JavaScript again: computing wrongly, the direct kernels run", async () => {
    fixed.winograd = false;
    try {
      const limits = {
        maxComputeInvocationsPerWorkgroup: 256,
        maxComputeWorkgroupStorageSize: 32768,
        maxComputeWorkgroupSizeX: 256,
      };
      const device = { limits } as unknown as GPUDevice;
      const r = await chooseTiles(device, SMALL_TRIAL, choice);
      expect(r.winograd).toEqual({ wide: false, deep: false });
      expect(r.tiles).toEqual(choice.tiles);
    } finally {
      fixed.winograd = true;
    }
  });

  it("a device whose Gram kernels compute wrongly is not used, kept choice or not", async () => {
    fixed.right = false;
    try {
      const device = { limits: {} } as unknown as GPUDevice;
      await expect(chooseTiles(device, SMALL_TRIAL, choice)).rejects.toThrow(
        /computes the image-gradient or Gram kernels wrongly/,
      );
    } finally {
      fixed.right = true;
    }
  });
});
