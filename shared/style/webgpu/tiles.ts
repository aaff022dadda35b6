// GEMM tile sizes per adapter: a short measured trial on first use (one VGG-like convolution per
// candidate), cached per device. GPUs differ in registers, workgroup memory and occupancy; the same
// code must do well on NVIDIA, Apple, AMD and Intel, so nothing is tuned for one of them.
import { convSlices, directConv } from "./direct-conv";
import { type Recordable, recordable } from "./dispatch";
import { COPY_DST, STORAGE } from "./flags";
import { type Dispatch, type Tiles, tilesFit } from "./gemm";
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
  /** Where Winograd's convolution (with the chosen tiles) beat the direct one in the trial. */
  winograd: WinogradChoice;
  /** The trial's Winograd times beside the direct ones' (none for a choice measured earlier). */
  winogradTrials: { wide?: WinogradTrial[]; deep?: WinogradTrial };
}

export interface WinogradChoice {
  /** For wide layers of at least `minChannels` channels (the fewer of in and out), and for deep layers. */
  wide: boolean;
  minChannels: number;
  deep: boolean;
}

export interface WinogradTrial {
  channels: number;
  /** ms, the direct convolution's and Winograd's (undefined: it failed, or computed wrongly: tile-check.ts). */
  direct?: number;
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

export interface Trial {
  wide: TrialShape;
  deep: TrialShape;
  /**
   * Wide layers of fewer channels, for Winograd only (with the wide tiles): its transforms' memory
   * traffic per multiply-add saved grows as the channels shrink, so conv1_2 (64) may lose where
   * conv3 (256) wins.
   */
  narrow: TrialShape[];
}

/**
 * relu3-like, ≈ 19 GFLOP a run, and conv5-like (512 channels at 32 px, ≈ 5 GFLOP): a few ms each on a
 * discrete GPU, long enough to time; conv1_2- and conv2-like for Winograd.
 */
export const GPU_TRIAL: Trial = {
  wide: { channels: 256, side: 128, repeat: 4, runs: 3 },
  deep: { channels: 512, side: 32, repeat: 8, runs: 3 },
  narrow: [
    { channels: 128, side: 192, repeat: 4, runs: 3 },
    { channels: 64, side: 256, repeat: 4, runs: 3 },
  ],
};
/** For software adapters (tests, CI): the same code paths in a fraction of a second. */
export const SMALL_TRIAL: Trial = {
  wide: { channels: 32, side: 32, repeat: 1, runs: 1 },
  deep: { channels: 64, side: 16, repeat: 1, runs: 1 },
  narrow: [{ channels: 16, side: 32, repeat: 1, runs: 1 }],
};

export type Known = Pick<TileChoice, "tiles" | "deepTiles" | "winograd">;

/**
 * The fastest candidates on this device, for wide and for deep layers, and where Winograd beats
 * them (cached per device: the first call measures). `known`: a choice measured earlier on this
 * adapter (kept by the host), used as is when both tiles are still candidates that fit and still
 * compute right here, checked against JavaScript again (a new driver may miscompile them), as is a
 * Winograd it names.
 */
export function chooseTiles(device: GPUDevice, trial: Trial = GPU_TRIAL, known?: Known) {
  let p = chosen.get(device);
  const usable = (t: Tiles) =>
    TILE_CANDIDATES.some((c) => JSON.stringify(c) === JSON.stringify(t)) && tilesFit(t, device.limits);
  if (!p) {
    p = (async (): Promise<TileChoice> => {
      if (!(await fixedTilesComputeRightly(device)))
        throw new Error(
          "this GPU's driver computes the image-gradient or Gram kernels wrongly (checked against JavaScript)",
        );
      const right = (t: Tiles) => checkedOn(device, () => tilesComputeRightly(device, t));
      if (
        known &&
        usable(known.tiles) &&
        usable(known.deepTiles) &&
        (await right(known.tiles)) &&
        (await right(known.deepTiles))
      ) {
        const still = async (on: boolean, t: Tiles) =>
          on && (await checkedOn(device, () => winogradComputesRightly(device, t)));
        const winograd = {
          ...known.winograd,
          wide: await still(known.winograd.wide, known.tiles),
          deep: await still(known.winograd.deep, known.deepTiles),
        };
        return { ...known, winograd, trials: [], deepTrials: [], winogradTrials: {} };
      }
      const wide = await measure(device, trial.wide);
      const deep = await measure(device, trial.deep);
      // Winograd against the direct convolution, each with the fastest tiles, widest channels first.
      const wideTrials: WinogradTrial[] = [];
      for (const shape of [trial.wide, ...trial.narrow].sort((a, b) => b.channels - a.channels))
        wideTrials.push(await winogradTrial(device, wide.tiles, shape));
      const deepTrial = await winogradTrial(device, deep.tiles, trial.deep);
      return {
        tiles: wide.tiles,
        trials: wide.trials,
        deepTiles: deep.tiles,
        deepTrials: deep.trials,
        winograd: decideWinograd(wideTrials, deepTrial),
        winogradTrials: { wide: wideTrials, deep: deepTrial },
      };
    })();
    chosen.set(device, p);
    p.catch(() => chosen.delete(device)); // a failed trial is tried again next time
  }
  return p;
}

/**
 * Where Winograd is used: deep layers if it won there; wide layers if it won at the widest trial,
 * down to the fewest channels at which it and every wider trial won (`wide`: widest first).
 */
export function decideWinograd(wide: WinogradTrial[], deep: WinogradTrial): WinogradChoice {
  const wins = (t: WinogradTrial) => t.winograd !== undefined && t.direct !== undefined && t.winograd < t.direct;
  const losing = wide.findIndex((t) => !wins(t));
  const lowest = losing < 0 ? wide.at(-1) : wide[losing - 1];
  return { wide: lowest !== undefined, minChannels: lowest?.channels ?? 0, deep: wins(deep) };
}

/** A check with the device's validation errors caught: a kernel the device refuses, or any failure, is a no. */
async function checkedOn(device: GPUDevice, check: () => Promise<boolean>): Promise<boolean> {
  device.pushErrorScope("validation");
  const right = await check().catch(() => false);
  const invalid = await device.popErrorScope();
  return right && !invalid;
}

/** Each candidate's time on a trial convolution; the fastest. */
async function measure(device: GPUDevice, trial: TrialShape) {
  const c = trial.channels;
  const px = trial.side * trial.side;
  const usage = STORAGE | COPY_DST;
  const made = [c * c * 9, c, c * px, c * px].map((floats) => device.createBuffer({ size: floats * 4, usage }));
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
      trials.push({ tiles, ms: await timedDirect(device, tiles, made, trial) });
    }
  } finally {
    for (const b of made) b.destroy();
  }
  const ok = trials.filter((t) => t.ms !== undefined).sort((a, b) => a.ms! - b.ms!);
  if (!ok.length) throw new Error("no GEMM tile size computes correctly on this GPU");
  return { tiles: ok[0].tiles, trials };
}

/**
 * Times the trial's convolution direct, as a job runs it (split along K where it has few tiles:
 * ./direct-conv) with these tiles; buffers: weights, bias, source, destination.
 */
async function timedDirect(device: GPUDevice, tiles: Tiles, [wt, a, src, dst]: GPUBuffer[], trial: TrialShape) {
  const [c, side] = [trial.channels, trial.side];
  const split = convSlices(c, side * side, c * 9, tiles);
  const part =
    split.slices > 1 ? device.createBuffer({ size: split.slices * c * side * side * 4, usage: STORAGE }) : undefined;
  try {
    return await timed(
      device,
      directConv("forward", { wt, a, src, dst, part }, c, c * 9, side, side, tiles, split),
      trial,
    );
  } finally {
    part?.destroy();
  }
}

/** The trial's convolution direct and by Winograd (checked against JavaScript first), with these tiles. */
async function winogradTrial(device: GPUDevice, tiles: Tiles, trial: TrialShape): Promise<WinogradTrial> {
  const [c, side] = [trial.channels, trial.side];
  const px = side * side;
  const floats = scratchFloatsFor(c, c, side, side, Number.POSITIVE_INFINITY);
  const usage = STORAGE | COPY_DST;
  const made = [c * c * 9, c, c * px, c * px, POSITIONS * c * c, floats, floats].map((n) =>
    device.createBuffer({ size: n * 4, usage }),
  );
  const [wt, bias, src, dst, u, v, prod] = made;
  try {
    // Direct timed again beside Winograd (the narrow shapes never were; the same moment and buffers for all).
    const direct = await timedDirect(device, tiles, [wt, bias, src, dst], trial);
    if (!(await checkedOn(device, () => winogradComputesRightly(device, tiles)))) return { channels: c, direct };
    const convs = winogradConv({ u, bias, src, dst, v, prod }, c, c, side, side, tiles, floats);
    return { channels: c, direct, winograd: await timed(device, convs, trial) };
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
