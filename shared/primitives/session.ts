// The primitives engine, runtime-neutral: rebuilds an image from shapes, one shape per step, the
// search spread over a pool of workers the caller starts (worker_threads in Node, Web Workers in
// the plugin UI). See search.ts for the per-step search and model.ts for the scoring maths.
import type { PrimitivesOptions } from "../protocol";
import { type Color, type Gradient, SHAPE_TYPES, type Shape } from "../shapes";
import { focusWeights, paletteRgb, parseHex } from "./controls";
import type { Found, FromWorker, ToWorker, WorkerInit } from "./messages";
import { coverageTarget, hasTransparency, weightedMean } from "./coverage";
import { averageColor, targetRgb } from "./model";
import { toShape, typeCode } from "./params";
import { refitColours } from "./refit";
import type { SearchBudget } from "./search";

export interface PrimitivesEvent {
  index: number;
  shape: Shape;
  score: number;
}

export interface PrimitivesSession {
  /** Working size. */
  width: number;
  height: number;
  /** Workers actually started (at most the climbs per step; 1 for the seed variant). */
  workers: number;
  background: Color;
  /** "alpha" when the result is to be clipped by the layer's alpha (see ShapeList.clip). */
  clip?: "alpha";
  initialScore: number;
  /**
   * Yields each accepted shape. Ends after options.count shapes; early (returns, no throw) once
   * signal is aborted, or once no shape lowers the error any more (then `exhausted`).
   */
  shapes(): AsyncGenerator<PrimitivesEvent>;
  /** Whether shapes() ended before options.count because no shape lowered the error any more. */
  readonly exhausted: boolean;
  /**
   * After the last shape: every shape with its colours fitted again to the finished picture
   * (refit.ts) and the score then. Null when the shapes cover too many pixels to refit; the
   * shapes as found then stand.
   */
  refit(): { shapes: Shape[]; score: number } | null;
  /** Frees the workers. Safe to call twice, also mid-run. */
  close(): Promise<void>;
}

export type WorkerReply = Extract<FromWorker, { type: "found" }>;

/** The workers, as the runtime provides them. Requests reject once the pool is closed. */
export interface SearchPool {
  /** Every worker's answer to the same request. */
  all(msg: ToWorker): Promise<WorkerReply[]>;
  one(index: number, msg: ToWorker): Promise<WorkerReply>;
  broadcast(msg: ToWorker): void;
  close(): Promise<void>;
}

/** Starts `count` workers (init made per index) and resolves once all have built their model. */
export type StartPool = (count: number, init: (index: number) => WorkerInit) => Promise<SearchPool>;

/** RGBA pixels already at the working size. */
export interface WorkImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

export interface SessionRun {
  /** Workers wanted (already clamped by the caller); results depend on the seed only, not on this. */
  workers: number;
  startPool: StartPool;
  signal?: AbortSignal;
  /** Search effort per step (benchmarks and tests); defaults to DEFAULT_BUDGET. */
  budget?: SearchBudget;
  /** Focus mask (white = detail matters), RGBA at the working size; weighs options.focusWeight there. */
  focus?: WorkImage;
}

/**
 * Per step: 8 climbs, each from the best of 150 random shapes, stopping after 200 failed mutations.
 * The classic tool uses 16 × 1000 with 100; with our multi-scale moves this reaches the same or a
 * lower score on the test images with about a third of the evaluations (see bench.ts).
 */
export const DEFAULT_BUDGET: SearchBudget = { climbs: 8, candidates: 150, age: 200 };
/**
 * Gradient fills: climbs end after 60 failed moves, not 200. A gradient candidate costs about
 * 1.5× a flat one, and each step's winner then climbs on with its ramp's window (Searcher.refine),
 * which gains more per evaluation than longer climbs: within 2× a flat run's time (figures in
 * the README's benchmarks).
 */
const GRADIENT_BUDGET: SearchBudget = { ...DEFAULT_BUDGET, age: 60 };
/** The search effort for these options when none is given. */
export const defaultBudget = (opts: PrimitivesOptions): SearchBudget =>
  opts.fill === "gradient" ? GRADIENT_BUDGET : DEFAULT_BUDGET;
/** Seed variant: give up on a shape after this many random tries in a row. */
const SEED_TRIES = 20_000;
/**
 * A shape that lowers the (weighted) squared error by less than this, in 0..255 levels squared,
 * changes nothing anyone could see: not drawn. Without it a picture already matched (a flat
 * colour, a layer with nothing visible) or a palette with nothing left to offer got shapes that
 * changed nothing or made it worse, up to the count asked for.
 */
const NEGLIGIBLE = 0.5;
/**
 * Steps in a row, each with new random shapes, that find nothing worth drawing before a run ends
 * early. With a two-colour palette on a photo, runs of up to 9 such steps come before another
 * shape that helps; on a flat colour all are fruitless, and 20 steps cost a fraction of a second.
 */
const FRUITLESS_STEPS = 20;

/** Working size (longest side `workSize`) of an image, keeping its aspect ratio. */
export function workSizeOf(width: number, height: number, workSize: number): { width: number; height: number } {
  const scale = workSize / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** `opts` must be validated already (PrimitivesOptionsSchema). */
export async function createSession(
  work: WorkImage,
  opts: PrimitivesOptions,
  run: SessionRun,
): Promise<PrimitivesSession> {
  const { width, height } = work;
  const budget = run.budget ?? defaultBudget(opts);
  // More workers than climbs would idle; the seed variant is sequential by nature.
  const workers = opts.algorithm === "seed" ? 1 : Math.max(1, Math.min(run.workers, budget.climbs));
  const focus = run.focus;
  if (focus && (focus.width !== width || focus.height !== height))
    throw new Error(`focus mask is ${focus.width}×${focus.height}, the target ${width}×${height}`);
  const focusW = focus ? focusWeights(focus.data, width, height, opts.focusWeight) : undefined;
  // "none" on a layer with transparency: match colour only where it shows (coverage.ts); the
  // result is clipped by its alpha. Otherwise transparent parts stand for the background: the
  // chosen colour, or white with "avg" (and "none" on an opaque layer).
  const clip = opts.background === "none" && hasTransparency(work.data) ? ("alpha" as const) : undefined;
  let rgb: Float64Array;
  let background: Color;
  let weights = focusW;
  if (clip) {
    const cover = coverageTarget(work.data, width, height);
    rgb = cover.rgb;
    weights = focusW ? cover.weights.map((w, i) => w * focusW[i]) : cover.weights;
    background = weightedMean(rgb, weights);
  } else {
    const fixedBg = opts.background === "avg" || opts.background === "none" ? undefined : parseHex(opts.background);
    rgb = targetRgb(work.data, width, height, fixedBg);
    // with focus, the best start for the weighted error (the focus's colour counts more)
    background = fixedBg ?? (weights ? weightedMean(rgb, weights) : averageColor(rgb));
  }
  // Where focus candidates start: the mask's strength, where the layer shows.
  const focusPoints = focusW?.map((w, i) => (w - 1) * (clip ? work.data[4 * i + 3] / 255 : 1));
  const palette = opts.palette?.length ? paletteRgb(opts.palette) : undefined;
  const initialTotal = squaredError(rgb, background, weights);
  // The score is the (focus-)weighted RMSE, normalised by the focus weights alone, so it reads
  // 0..1; with a clip it is the RMSE of the clipped result against the layer, premultiplied.
  const totalWeight = focusW ? focusW.reduce((s, w) => s + w, 0) : width * height;
  const score = (total: number) => Math.sqrt(Math.max(0, total) / (totalWeight * 4)) / 255;

  // Workers poll a shared flag to stop mid-step; without SharedArrayBuffer (a plugin iframe is not
  // cross-origin isolated) stopping closes the pool instead, which ends the pending requests.
  const abort = sharedFlag();
  const codes = opts.shape === "combo" ? SHAPE_TYPES.map((_, i) => i) : [typeCode(opts.shape)];
  // The seed variant colours shapes by their mean: it stays flat.
  const gradient = opts.fill === "gradient" && opts.algorithm !== "seed";
  const pool = await run.startPool(workers, (index) => ({
    width,
    height,
    target: rgb,
    background,
    codes,
    alpha: opts.alpha,
    seed: opts.seed,
    index,
    workers,
    budget,
    abort,
    weights,
    focus: focusPoints,
    palette,
    gradient,
  }));

  let closed = false;
  let stopRequested = false;
  const stop = () => {
    stopRequested = true;
    if (abort) Atomics.store(abort, 0, 1);
    else void pool.close();
  };
  const signal = run.signal;
  signal?.addEventListener("abort", stop, { once: true });
  if (signal?.aborted) stop();
  const stopped = () => closed || stopRequested;

  let started = false;
  let exhausted = false;
  const found: Found[] = [];
  async function* shapes(): AsyncGenerator<PrimitivesEvent> {
    // The workers' canvases carry the shapes found so far: a second pass would start mid-way.
    if (started) throw new Error("PrimitivesSession.shapes() can only be iterated once");
    started = true;
    let total = initialTotal;
    let iteration = 0;
    const longest = Math.max(width, height);
    // Each step draws its random shapes from its own number: the shape's index, moved on past
    // steps that found nothing (so a run that never misses finds what it always found).
    let step = 0;
    let fruitless = 0;
    for (let index = 0; index < opts.count; step++) {
      if (stopped()) return;
      let best: Found | null = null;
      try {
        if (opts.algorithm === "seed") {
          const r = await pool.one(0, {
            type: "seed",
            iteration,
            startSize: Math.round(longest / 2),
            minSize: Math.max(2, Math.round(longest / 64)),
            tries: SEED_TRIES,
          });
          iteration = r.iteration ?? iteration;
          best = r.found;
        } else {
          // Lowest error wins; ties go to the lower climb, so any worker count gives the same result.
          for (const r of await pool.all({ type: "step", step })) {
            const f = r.found;
            if (f && (!best || f.energy < best.energy || (f.energy === best.energy && f.climb < best.climb))) best = f;
          }
          if (best && gradient && !stopped()) best = (await pool.one(0, { type: "refine", step, found: best })).found;
        }
      } catch (err) {
        if (stopped()) return;
        throw err;
      }
      if (stopped()) return;
      // The seed variant gives up after its tries; a climb always brings its best, however poor.
      if (!best || !(best.energy < -NEGLIGIBLE)) {
        fruitless++;
        if (!best || fruitless >= FRUITLESS_STEPS) {
          exhausted = true;
          return;
        }
        continue;
      }
      fruitless = 0;
      pool.broadcast({ type: "draw", found: best });
      total += best.energy;
      found.push(best);
      yield { index, shape: shapeOf(best), score: score(total) };
      index++;
    }
  }

  return {
    width,
    height,
    workers,
    background,
    clip,
    initialScore: score(initialTotal),
    shapes,
    get exhausted() {
      return exhausted;
    },
    refit() {
      const input = { width, height, target: rgb, weights, background, palette };
      const r = refitColours(found, input);
      return r && { shapes: r.found.map(shapeOf), score: score(r.after) };
    },
    async close() {
      if (closed) return;
      closed = true;
      stop();
      signal?.removeEventListener("abort", stop);
      await pool.close();
    },
  };
}

function shapeOf(f: Found): Shape {
  const color = { r: f.color[0], g: f.color[1], b: f.color[2], a: f.alpha };
  return toShape(f.code, f.p, color, gradientOf(f));
}

/** A found shape's gradient as the shape model has it (stops to 1/100 px, like the geometry). */
function gradientOf(f: Found): Gradient | undefined {
  const g = f.gradient;
  if (!g) return undefined;
  const r = (v: number) => Math.round(v * 100) / 100;
  const [x1, y1, x2, y2] = g.stops;
  return { x1: r(x1), y1: r(y1), x2: r(x2), y2: r(y2), to: { r: g.color[0], g: g.color[1], b: g.color[2] } };
}

function sharedFlag(): Int32Array | undefined {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
  return typeof SharedArrayBuffer === "function" && isolated ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
}

function squaredError(rgb: Float64Array, c: Color, weights?: Float64Array): number {
  let total = 0;
  for (let i = 0; i < rgb.length; i += 3) {
    // (the unweighted sum keeps its original order of additions: same bits, same scores as before)
    if (weights) total += weights[i / 3] * ((rgb[i] - c.r) ** 2 + (rgb[i + 1] - c.g) ** 2 + (rgb[i + 2] - c.b) ** 2);
    else total += (rgb[i] - c.r) ** 2 + (rgb[i + 1] - c.g) ** 2 + (rgb[i + 2] - c.b) ** 2;
  }
  return total;
}
