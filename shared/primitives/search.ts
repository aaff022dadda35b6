// The search one thread runs for one step: best of many random shapes, then hill climbing, a few
// times over; or the paper's "seed" variant. Nothing is allocated per candidate (one small RNG per climb).
import type { FocusPoints } from "./focus-points";
import type { Model } from "./model";
import { mutateShape, randomShape } from "./mutate";
import { PARAMS, T_CIRCLE, T_ELLIPSE, T_POLYGON, T_RECTANGLE, T_ROT_ELLIPSE, T_ROT_RECT } from "./params";
import { Spans } from "./raster";
import { Rng } from "./rng";

/** How hard one step searches (totals over all workers; each runs its share of `climbs`). */
export interface SearchBudget {
  /** Independent hill climbs per step. */
  climbs: number;
  /** Random shapes drawn to start each climb from the best of them. */
  candidates: number;
  /** A climb stops after this many mutations in a row that did not help. */
  age: number;
}

/** A shape under search: its type code, parameters, opacity, best colour and error change. */
export class Candidate {
  code = 0;
  readonly p = new Float64Array(PARAMS);
  alpha = 128;
  readonly color = new Int32Array(3);
  /** Gradient fills: the colour at the far stop (`color` is the near one). */
  readonly color2 = new Int32Array(3);
  /** Gradient fills: where the ramp runs (see Ramp). */
  lo = 0;
  hi = 1;
  turn = 0;
  energy = 0;
  /** Which climb of the step found it (ties between workers go to the lower one). */
  climb = 0;

  copyFrom(o: Candidate): void {
    this.climb = o.climb;
    this.code = o.code;
    this.p.set(o.p);
    this.alpha = o.alpha;
    this.color.set(o.color);
    this.color2.set(o.color2);
    this.lo = o.lo;
    this.hi = o.hi;
    this.turn = o.turn;
    this.energy = o.energy;
  }
}

/** Checked between batches of this many evaluations (an Atomics.load per batch is free). */
const ABORT_EVERY = 32;

export class Searcher {
  readonly spans: Spans;
  private readonly cur = new Candidate();
  private readonly trial = new Candidate();
  /** A candidate as it was before a move, restored when the move does not help. */
  private readonly before = new Candidate();
  private evals = 0;
  private readonly gradient: boolean;

  constructor(
    readonly model: Model,
    /** Type codes to draw from (several for combo). */
    private readonly codes: readonly number[],
    /** Fixed opacity 1..255, or 0: searched per shape. */
    private readonly alpha: number,
    private readonly aborted: () => boolean = () => false,
    /** With focus: 3 climbs in 4 start their shapes at points drawn from it (the rest anywhere). */
    private readonly focus: FocusPoints | null = null,
  ) {
    this.spans = new Spans(model.width, model.height);
    this.gradient = model.gradient;
  }

  evaluate(c: Candidate): number {
    this.spans.rasterize(c.code, c.p);
    c.energy = this.gradient
      ? this.model.energyGradient(this.spans, c.alpha, c.color, c.color2, c)
      : this.model.energy(this.spans, c.alpha, c.color);
    this.evals++;
    return c.energy;
  }

  private readonly at = new Float64Array(2);

  private randomize(c: Candidate, rng: Rng, inFocus = false): void {
    c.code = this.codes.length === 1 ? this.codes[0] : this.codes[rng.int(this.codes.length)];
    if (inFocus && this.focus) {
      this.focus.draw(rng, this.at);
      randomShape(c.code, c.p, rng, this.model.width, this.model.height, this.at[0], this.at[1]);
    } else randomShape(c.code, c.p, rng, this.model.width, this.model.height);
    c.alpha = this.alpha || 128;
    c.lo = 0;
    c.hi = 1;
    c.turn = 0;
  }

  private shouldStop(): boolean {
    return this.evals % ABORT_EVERY === 0 && this.aborted();
  }

  /**
   * Hill climbing step: climbs first, first + stride, … of the step's `budget.climbs`, the best
   * into `out`. Each climb draws from its own stream seeded by (seed, step, climb), so the result
   * does not depend on how climbs are spread over workers. False if aborted.
   */
  step(seed: number, step: number, budget: SearchBudget, first: number, stride: number, out: Candidate): boolean {
    const { cur, trial, before } = this;
    const w = this.model.width;
    const h = this.model.height;
    out.energy = Number.POSITIVE_INFINITY;
    for (let c = first; c < budget.climbs; c += stride) {
      const rng = new Rng(seed, step, c);
      cur.climb = c;
      // A share of the search reserved for the focus: weights alone pull weakly (the best of 150
      // random shapes is usually where the picture's error is largest), so 3 climbs in 4 start there.
      const inFocus = c % 4 !== 0;
      // Best of N random shapes.
      cur.energy = Number.POSITIVE_INFINITY;
      for (let i = 0; i < budget.candidates; i++) {
        this.randomize(trial, rng, inFocus);
        if (this.evaluate(trial) < cur.energy) cur.copyFrom(trial);
        if (this.shouldStop()) return false;
      }
      // Hill climb: keep a mutation only if it lowers the error; stop after `age` failures in a row.
      for (let age = 0; age < budget.age; age++) {
        before.copyFrom(cur);
        mutateShape(cur.code, cur.p, rng, w, h);
        if (!this.alpha) cur.alpha = Math.max(1, Math.min(255, cur.alpha + rng.int(21) - 10));
        if (this.evaluate(cur) < before.energy) age = -1;
        else cur.copyFrom(before);
        if (this.shouldStop()) return false;
      }
      if (cur.energy < out.energy) out.copyFrom(cur);
    }
    return true;
  }

  /**
   * Gradient fills, after a step: the step's best shape `c` climbs on with moves of its ramp's
   * window (a sharper colour change where the picture has an edge) and, one move in two, of its
   * geometry. A window move re-sums only (the shape, direction and extent stay), so this costs
   * about one climb; doing it for the winner only, not for every climb, keeps gradient runs
   * within 2× a flat run. Its own random stream (seed, step, climbs): any worker gives the same result.
   */
  refine(seed: number, step: number, budget: SearchBudget, c: Candidate): boolean {
    const rng = new Rng(seed, step, budget.climbs);
    const w = this.model.width;
    const h = this.model.height;
    const before = this.before;
    this.evaluate(c);
    // Whether the spans, direction and extent are still c's (not a rejected move's).
    let current = true;
    for (let age = 0; age < RAMP_AGE; age++) {
      before.copyFrom(c);
      const energy = c.energy;
      let e: number;
      if (rng.int(2) === 0) {
        mutateRamp(c, rng);
        // Clamped to where it was (an end already at 0 or 1, the narrowest window): a failed move.
        if (c.lo === before.lo && c.hi === before.hi && c.turn === before.turn) continue;
        if (current) {
          e = c.energy = this.model.energyGradientRamp(this.spans, c.alpha, c.color, c.color2, c);
          this.evals++;
        } else e = this.evaluate(c);
        current = true;
      } else {
        mutateShape(c.code, c.p, rng, w, h);
        e = this.evaluate(c);
        current = e < energy;
      }
      if (e < energy) age = -1;
      else c.copyFrom(before);
      if (this.shouldStop()) return false;
    }
    return true;
  }

  /**
   * The paper's variant: random shapes sized between `minSize` and `maxSize`, coloured with the mean target
   * colour under them; the first that lowers the error is the result. False if none did within
   * `tries`, or aborted.
   */
  seedStep(rng: Rng, minSize: number, maxSize: number, tries: number, out: Candidate): boolean {
    const t = this.trial;
    for (let i = 0; i < tries; i++) {
      this.randomize(t, rng);
      scaleTo(t, minSize + rng.float() * (maxSize - minSize));
      if (!this.alpha) t.alpha = 32 + rng.int(224);
      this.spans.rasterize(t.code, t.p);
      if (!this.model.meanTarget(this.spans, t.color)) continue;
      this.model.snapToPalette(t.color);
      t.energy = this.model.delta(this.spans, t.alpha, t.color);
      this.evals++;
      if (t.energy < 0) {
        out.copyFrom(t);
        return true;
      }
      if (this.shouldStop()) return false;
    }
    return false;
  }
}

/** A refine climb stops after this many moves in a row that did not help. */
const RAMP_AGE = 100;
/** Narrowest ramp window: a twentieth of the shape's extent (a near-hard split in two colours). */
const MIN_RAMP = 0.05;

/** A ramp turns at most this far from the fitted direction (degrees). */
const MAX_TURN = 45;

/**
 * One move of a candidate's ramp: one move in three turns it from the fitted direction by 16, 8 or
 * 4° (σ; a sharp ramp must lie along the edge, which the fit over the whole shape only
 * approximates), the others move one end of its window by 0.2, 0.1 or 0.05 of the extent, within [0, 1].
 */
function mutateRamp(c: Candidate, rng: Rng): void {
  if (rng.int(3) === 0) {
    c.turn = Math.max(-MAX_TURN, Math.min(MAX_TURN, c.turn + (rng.normal() * 16) / (1 << rng.int(3))));
    return;
  }
  const d = (rng.normal() * 0.2) / (1 << rng.int(3));
  if (rng.int(2) === 0) c.lo = Math.min(Math.max(0, c.lo + d), c.hi - MIN_RAMP);
  else c.hi = Math.max(Math.min(1, c.hi + d), c.lo + MIN_RAMP);
}

/** Scales a random shape about its first point so its extent is `size` pixels. */
function scaleTo(c: Candidate, size: number): void {
  const p = c.p;
  switch (c.code) {
    case T_ROT_RECT:
    case T_ELLIPSE:
    case T_ROT_ELLIPSE:
    case T_CIRCLE: {
      // Radii: keep the aspect ratio, longest radius = size / 2.
      const k = size / 2 / Math.max(p[2], c.code === T_CIRCLE ? 0 : p[3]);
      p[2] *= k;
      if (c.code !== T_CIRCLE) p[3] *= k;
      return;
    }
    default: {
      // Point lists (rectangle corners, triangle, polygon, Bézier): scale towards the first point.
      const n = c.code === T_RECTANGLE ? 2 : c.code === T_POLYGON ? 4 : 3;
      let extent = 0;
      for (let i = 1; i < n; i++) extent = Math.max(extent, Math.abs(p[2 * i] - p[0]), Math.abs(p[2 * i + 1] - p[1]));
      if (extent === 0) return;
      const k = size / extent;
      for (let i = 1; i < n; i++) {
        p[2 * i] = p[0] + (p[2 * i] - p[0]) * k;
        p[2 * i + 1] = p[1] + (p[2 * i + 1] - p[1]) * k;
      }
    }
  }
}
