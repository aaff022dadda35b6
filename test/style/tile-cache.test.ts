// Tiles measured for an adapter are kept across runs, per adapter and candidate list; a damaged
// file means measuring again; a kept choice is used without a trial.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { chooseTiles, decideWinograd, SMALL_TRIAL, TILE_CANDIDATES } from "../../shared/style/webgpu/tiles";
import { knownTiles, rememberTiles } from "../../companion/style/tile-cache";

// No GPU here: the check of the fixed-tile kernels (run on every device, trial or not) answers as told.
const fixed = vi.hoisted(() => ({ right: true, winograd: true, direct: true }));
vi.mock("../../shared/style/webgpu/tile-check", async (actual) => ({
  ...(await actual<typeof import("../../shared/style/webgpu/tile-check")>()),
  fixedTilesComputeRightly: async () => fixed.right,
  winogradComputesRightly: async () => fixed.winograd,
  tilesComputeRightly: async () => fixed.direct,
}));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "stylize-tiles-"));
  process.env.STYLIZE_CACHE_DIR = dir;
});

const choice = {
  tiles: TILE_CANDIDATES[1],
  deepTiles: TILE_CANDIDATES[0],
  winograd: { wide: true, minChannels: 128, deep: false },
};

/** What chooseTiles asks of a device before it times anything: limits (SwiftShader's), error scopes, buffers. */
const fakeDevice = (
  limits = {
    maxComputeInvocationsPerWorkgroup: 256,
    maxComputeWorkgroupStorageSize: 32768,
    maxComputeWorkgroupSizeX: 256,
  },
) =>
  ({
    limits,
    pushErrorScope: () => {},
    popErrorScope: async () => null,
    createBuffer: () => ({ destroy: () => {} }),
  }) as unknown as GPUDevice;

describe("tile cache", () => {
  it("remembers a choice per adapter", async () => {
    expect(await knownTiles("nvidia (hopper) NVIDIA H200")).toBeUndefined();
    await rememberTiles("nvidia (hopper) NVIDIA H200", choice);
    const apple = {
      tiles: TILE_CANDIDATES[0],
      deepTiles: TILE_CANDIDATES[0],
      winograd: { wide: false, minChannels: 0, deep: false },
    };
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
    const device = fakeDevice(); // no GPU needed: nothing is measured
    const r = await chooseTiles(device, SMALL_TRIAL, choice);
    expect(r).toEqual({ ...choice, trials: [], deepTrials: [], winogradTrials: {} });
  });

  it("a kept Winograd is checked against JavaScript again: computing wrongly, the direct kernels run", async () => {
    fixed.winograd = false;
    try {
      const device = fakeDevice();
      const r = await chooseTiles(device, SMALL_TRIAL, choice);
      expect(r.winograd).toEqual({ wide: false, minChannels: 128, deep: false });
      expect(r.tiles).toEqual(choice.tiles);
    } finally {
      fixed.winograd = true;
    }
  });

  it("kept tiles that no longer compute right here (a new driver) are measured again", async () => {
    fixed.direct = false;
    try {
      // The trial then times candidates: with every one wrong, none is left.
      await expect(chooseTiles(fakeDevice(), SMALL_TRIAL, choice)).rejects.toThrow(
        /no GEMM tile size computes correctly/,
      );
    } finally {
      fixed.direct = true;
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

describe("where Winograd is used, from the trial's times", () => {
  const t = (channels: number, direct: number | undefined, winograd: number | undefined) => ({
    channels,
    direct,
    winograd,
  });
  const deepWins = t(512, 2, 1);
  it("wide layers down to the fewest channels at which it and every wider trial won", () => {
    expect(decideWinograd([t(256, 2, 1), t(128, 2, 1), t(64, 1, 2)], deepWins)).toEqual({
      wide: true,
      minChannels: 128,
      deep: true,
    });
    expect(decideWinograd([t(256, 2, 1), t(128, 2, 1), t(64, 2, 1)], deepWins)).toMatchObject({
      wide: true,
      minChannels: 64,
    });
    // A narrow trial that wins below a losing one does not count: the decision is a threshold.
    expect(decideWinograd([t(256, 2, 1), t(128, 1, 2), t(64, 2, 1)], deepWins)).toMatchObject({
      wide: true,
      minChannels: 256,
    });
  });
  it("nowhere it lost, failed or computed wrongly (no time); deep on its own trial", () => {
    expect(decideWinograd([t(256, 1, 2), t(128, 2, 1)], t(512, 1, 2))).toEqual({
      wide: false,
      minChannels: 0,
      deep: false,
    });
    expect(decideWinograd([t(256, 2, undefined)], deepWins)).toEqual({ wide: false, minChannels: 0, deep: true });
    expect(decideWinograd([t(256, undefined, 1)], t(512, 2, undefined))).toMatchObject({ wide: false, deep: false });
  });
});
