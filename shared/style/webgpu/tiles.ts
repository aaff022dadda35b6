// GEMM tile sizes per adapter: a short measured trial on first use (one VGG-like convolution per
// candidate), cached per device. GPUs differ in registers, workgroup memory and occupancy; the same
// code must do well on NVIDIA, Apple, AMD and Intel, so nothing is tuned for one of them.
import { COPY_DST, STORAGE, UNIFORM } from "./flags";
import { gemmLaunch, type Tiles, tilesFit } from "./gemm";
import { fixedTilesComputeRightly, gemmPipeline, tilesComputeRightly } from "./tile-check";

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

/**
 * The fastest candidates on this device, for wide and for deep layers (cached per device: the first
 * call measures). `known`: a choice measured earlier on this adapter (kept by the host), used as is
 * when both are still candidates that fit.
 */
export function chooseTiles(
  device: GPUDevice,
  trial: { wide: TrialShape; deep: TrialShape } = GPU_TRIAL,
  known?: Pick<TileChoice, "tiles" | "deepTiles">,
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
      if (known && usable(known.tiles) && usable(known.deepTiles)) return { ...known, trials: [], deepTrials: [] };
      const wide = await measure(device, trial.wide);
      const deep = await measure(device, trial.deep);
      return { tiles: wide.tiles, trials: wide.trials, deepTiles: deep.tiles, deepTrials: deep.trials };
    })();
    chosen.set(device, p);
    p.catch(() => chosen.delete(device)); // a failed trial is tried again next time
  }
  return p;
}

async function measure(device: GPUDevice, trial: TrialShape) {
  const c = trial.channels;
  const px = trial.side * trial.side;
  const usage = STORAGE | COPY_DST;
  const make = (floats: number) => device.createBuffer({ size: floats * 4, usage });
  const buffers = [make(c * c * 9), make(c), make(c * px), make(c * px)];
  const params = device.createBuffer({ size: 32, usage: UNIFORM | COPY_DST });
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
      if (!right) {
        const invalid = await device.popErrorScope();
        trials.push(right === false && !invalid ? { tiles, wrong: true } : { tiles });
        continue;
      }
      const pipeline = gemmPipeline(device, tiles);
      const launch = gemmLaunch(tiles, c, px, c * 9, trial.side, trial.side);
      device.queue.writeBuffer(params, 0, launch.params);
      const bind = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [params, ...buffers].map((buffer, i) => ({ binding: i, resource: { buffer } })),
      });
      // Several dispatches per submit, so that the GPU's time and not the round trip is measured.
      const once = async () => {
        const enc = device.createCommandEncoder();
        const pass = enc.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bind);
        for (let r = 0; r < trial.repeat; r++) pass.dispatchWorkgroups(...launch.groups);
        pass.end();
        device.queue.submit([enc.finish()]);
        await device.queue.onSubmittedWorkDone();
      };
      let ms = Number.POSITIVE_INFINITY;
      try {
        await once(); // compiles and warms up
        for (let i = 0; i < trial.runs; i++) {
          const t0 = performance.now();
          await once();
          ms = Math.min(ms, performance.now() - t0);
        }
      } finally {
        const err = await device.popErrorScope();
        trials.push({ tiles, ms: err ? undefined : ms });
      }
    }
  } finally {
    for (const b of [...buffers, params]) b.destroy();
  }
  const ok = trials.filter((t) => t.ms !== undefined).sort((a, b) => a.ms! - b.ms!);
  if (!ok.length) throw new Error("no GEMM tile size computes correctly on this GPU");
  return { tiles: ok[0].tiles, trials };
}
