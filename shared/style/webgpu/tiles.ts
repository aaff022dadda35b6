// GEMM tile sizes per adapter: a short measured trial on first use (one VGG-like convolution per
// candidate), cached per device. GPUs differ in registers, workgroup memory and occupancy; the same
// code must do well on NVIDIA, Apple, AMD and Intel, so nothing is tuned for one of them.
import { type Recordable, recordable } from "./dispatch";
import { COPY_DST, STORAGE } from "./flags";
import { CONV_FORWARD, type Dispatch, gemmLaunch, gemmShader, type Tiles, tilesFit } from "./gemm";
import { fixedTilesComputeRightly, tilesComputeRightly, winogradComputesRightly } from "./tile-check";
import { POSITIONS, scratchFloatsFor, winogradConv } from "./winograd";

/** Candidates, from wide to small; those the adapter's limits refuse are skipped. */
export const TILE_CANDIDATES: readonly Tiles[] = [
  { tm: 64, tn: 64, tk: 16, rm: 4 },
  { tm: 128, tn: 128, tk: 8, rm: 8, cn: 2 },
  { tm: 64, tn: 128, tk: 16, rm: 8, cn: 2 },
  { tm: 128, tn: 64, tk: 16, rm: 8 },
  { tm: 64, tn: 64, tk: 32, rm: 4 },
  { tm: 32, tn: 64, tk: 16, rm: 4 },
];

export interface TileTrial {
  tiles: Tiles;
  /** Milliseconds of the best of the timed runs; undefined when it failed. */
  ms?: number;
  /** It compiled but computed a wrong result (tile-check.ts): never used on this device. */
  wrong?: true;
}

export interface TileChoice {
  /** For convolutions over many pixels (VGG's first three blocks). */
  tiles: Tiles;
  trials: TileTrial[];
  /** For deep layers over few pixels (conv4/conv5 at ordinary sizes), where big tiles leave the GPU idle. */
  deepTiles: Tiles;
  deepTrials: TileTrial[];
  /** Whether Winograd's convolution (with the chosen tiles) beat the direct one in the trial, wide and deep. */
  winograd: { wide: boolean; deep: boolean };
  /** The trial's Winograd times beside the direct ones', ms (none for a choice measured earlier). */
  winogradTrials: { wide?: WinogradTrial; deep?: WinogradTrial };
}

export interface WinogradTrial {
  direct: number;
  /** Undefined: it failed, or computed wrongly (tile-check.ts). */
  winograd?: number;
}

/** A convolution over at most this many pixels counts as deep (64×64: conv4 of a 512 px image). */
export const DEEP_PIXELS = 64 * 64;

const chosen = new WeakMap<GPUDevice, Promise<TileChoice>>();

export interface TrialShape {
  /** A conv of `channels` → `channels` at side × side, dispatched `repeat` times per timed run. */
  channels: number;
  side: number;
  repeat: number;
  runs: number;
}

/**
 * relu3-like, ≈ 19 GFLOP a run, and conv5-like (512 channels at 32 px, ≈ 5 GFLOP): a few ms each on a
 * discrete GPU, long enough to time.
 */
export const GPU_TRIAL = {
  wide: { channels: 256, side: 128, repeat: 4, runs: 3 },
  deep: { channels: 512, side: 32, repeat: 8, runs: 3 },
} satisfies Record<string, TrialShape>;
/** For software adapters (tests, CI): the same code paths in a fraction of a second. */
export const SMALL_TRIAL = {
  wide: { channels: 32, side: 32, repeat: 1, runs: 1 },
  deep: { channels: 64, side: 16, repeat: 1, runs: 1 },
} satisfies Record<string, TrialShape>;

export type Known = Pick<TileChoice, "tiles" | "deepTiles" | "winograd">;

/**
 * The fastest candidates on this device, for wide and for deep layers, and whether Winograd beats
 * them (cached per device: the first call measures). `known`: a choice measured earlier on this
 * adapter (kept by the host), used as is when both tiles are still candidates that fit; a Winograd
 * it names is checked against JavaScript again (the direct kernels always are).
 */
export function chooseTiles(
  device: GPUDevice,
  trial: { wide: TrialShape; deep: TrialShape } = GPU_TRIAL,
  known?: Known,
) {
  let p = chosen.get(device);
  const usable = (t: Tiles) =>
    TILE_CANDIDATES.some((c) => JSON.stringify(c) === JSON.stringify(t)) && tilesFit(t, device.limits);
  if (!p) {
    p = (async (): Promise<TileChoice> => {
      if (!(await fixedTilesComputeRightly(device)))
        throw new Error(
          "this GPU's driver computes the image-gradient or Gram kernels wrongly (checked against JavaScript)",
        );
      if (known && usable(known.tiles) && usable(known.deepTiles)) {
        const still = async (on: boolean, t: Tiles) => on && (await winogradComputesRightly(device, t));
        const winograd = {
          wide: await still(known.winograd.wide, known.tiles),
          deep: await still(known.winograd.deep, known.deepTiles),
        };
        return { ...known, winograd, trials: [], deepTrials: [], winogradTrials: {} };
      }
      const wide = await measure(device, trial.wide);
      const deep = await measure(device, trial.deep);
      const winogradTrials = { wide: wide.winograd, deep: deep.winograd };
      const faster = (t: WinogradTrial) => t.winograd !== undefined && t.winograd < t.direct;
      return {
        tiles: wide.tiles,
        trials: wide.trials,
        deepTiles: deep.tiles,
        deepTrials: deep.trials,
        winograd: { wide: faster(wide.winograd), deep: faster(deep.winograd) },
        winogradTrials,
      };
    })();
    chosen.set(device, p);
    p.catch(() => chosen.delete(device)); // a failed trial is tried again next time
  }
  return p;
}

/** Each candidate's time on a trial convolution, then Winograd's with the fastest candidate. */
async function measure(device: GPUDevice, trial: TrialShape) {
  const c = trial.channels;
  const px = trial.side * trial.side;
  const usage = STORAGE | COPY_DST;
  const make = (floats: number) => device.createBuffer({ size: floats * 4, usage });
  const [wt, bias, src, dst] = [make(c * c * 9), make(c), make(c * px), make(c * px)];
  const made = [wt, bias, src, dst];
  const trials: TileTrial[] = [];
  try {
    for (const tiles of TILE_CANDIDATES.filter((t) => tilesFit(t, device.limits))) {
      device.pushErrorScope("validation");
      let right: boolean | undefined;
      try {
        right = await tilesComputeRightly(device, tiles);
      } catch {
        right = undefined; // it could not run at all: failed, like a validation error
      }
      const invalid = await device.popErrorScope();
      if (!right) {
        trials.push(right === false && !invalid ? { tiles, wrong: true } : { tiles });
        continue;
      }
      const launch = gemmLaunch(tiles, c, px, c * 9, trial.side, trial.side);
      const conv = {
        code: gemmShader(CONV_FORWARD, tiles),
        params: launch.params,
        buffers: made,
        groups: launch.groups,
      };
      trials.push({ tiles, ms: await timed(device, [conv], trial) });
    }
    const ok = trials.filter((t) => t.ms !== undefined).sort((a, b) => a.ms! - b.ms!);
    if (!ok.length) throw new Error("no GEMM tile size computes correctly on this GPU");
    const { tiles, ms } = ok[0];
    const winograd: WinogradTrial = { direct: ms! };
    if (await winogradComputesRightly(device, tiles).catch(() => false)) {
      const floats = scratchFloatsFor(c, c, trial.side, trial.side, Number.POSITIVE_INFINITY);
      const [u, v, prod] = [make(POSITIONS * c * c), make(floats), make(floats)];
      made.push(u, v, prod);
      const convs = winogradConv({ u, bias, src, dst, v, prod }, c, c, trial.side, trial.side, tiles, floats);
      winograd.winograd = await timed(device, convs, trial);
    }
    return { tiles, trials, winograd };
  } finally {
    for (const b of made) b.destroy();
  }
}

/**
 * The best wall time (ms) of the trial's runs, each one submit of `repeat` times the dispatches (and
 * a first run that compiles and warms up); undefined when WebGPU reported an error.
 */
async function timed(device: GPUDevice, dispatches: Dispatch[], trial: TrialShape): Promise<number | undefined> {
  device.pushErrorScope("validation");
  let work: Recordable | undefined;
  let ms = Number.POSITIVE_INFINITY;
  try {
    work = recordable(device, dispatches);
    // Several dispatches per submit, so that the GPU's time and not the round trip is measured.
    const once = async () => {
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      for (let r = 0; r < trial.repeat; r++) work!.record(pass);
      pass.end();
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
    };
    await once();
    for (let i = 0; i < trial.runs; i++) {
      const t0 = performance.now();
      await once();
      ms = Math.min(ms, performance.now() - t0);
    }
  } finally {
    work?.destroy();
    const err = await device.popErrorScope();
    if (err) ms = Number.NaN;
  }
  return Number.isNaN(ms) ? undefined : ms;
}
