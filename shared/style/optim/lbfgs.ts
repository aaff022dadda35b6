// L-BFGS with a strong-Wolfe line search (cubic interpolation), following minFunc and
// torch.optim.LBFGS — the optimiser jcjohnson/neural-style uses, and the best one for this loss.
// The logic runs on the host; the vector work goes to a VectorOps (./vectors): JavaScript, or the
// GPU that holds the image. On the host, dot products accumulate in float64.
import type { Evaluation, Objective, Optimizer, StepResult } from "./types";
import { hostOps, MIN_CURVATURE, type VectorOps } from "./vectors";

export interface LbfgsOptions {
  /** Curvature pairs kept (memory ≈ 2 · history · image size). */
  history?: number;
  /** Most objective evaluations one line search may take. */
  maxLineSearch?: number;
  /** Stop when a step changes the loss, or is predicted to, by less than this fraction of it, or
   * moves no variable by more than this. */
  toleranceChange?: number;
  /** Largest change of any variable in the first step (before curvature is known). */
  firstStep?: number;
  /**
   * Accept a step on sufficient decrease alone (Armijo), skipping the strong-Wolfe curvature test.
   * L-BFGS's t = 1 is nearly always good; the curvature test adds an evaluation to ~1 step in 4,
   * which at the full-size scale of a style job costs as much as the step itself.
   */
  decreaseOnly?: boolean;
  /**
   * A guess of the inverse Hessian's scale (what `curvatureScale` reports) for the first step, in
   * place of `firstStep`: a warm start from a similar problem then takes a full-size first step.
   */
  initialScale?: number;
}

/** Curvature pairs kept unless LbfgsOptions.history says otherwise. */
export const DEFAULT_HISTORY = 10;
const MAX_LINE_SEARCH = 10;

/**
 * The most vectors an Lbfgs with these options holds at once (a GPU reserves them up front): the
 * curvature pairs, x, the trial point, d, the gradient, one scratch vector of the ops, and every
 * gradient a line search evaluates (kept until it ends).
 */
export function lbfgsVectors(opts: LbfgsOptions = {}): number {
  return 2 * (opts.history ?? DEFAULT_HISTORY) + 5 + (opts.maxLineSearch ?? MAX_LINE_SEARCH);
}

export class Lbfgs<V = Float32Array> implements Optimizer<V> {
  private readonly s: V[] = [];
  private readonly y: V[] = [];
  private readonly rho: number[] = [];
  private current?: Evaluation<V>;
  private prevGrad?: V;
  private dir?: V;
  private t = 1;
  private hDiag = 1;
  private iter = 0;
  private readonly history: number;
  private readonly maxLs: number;
  private readonly tolChange: number;
  private readonly firstStep: number;
  private readonly decreaseOnly: boolean;
  private readonly trial: V;
  private scaleKnown = false;
  private readonly ops: VectorOps<V>;

  /** The inverse-Hessian scale (sᵀy/yᵀy of the last curvature pair, else `initialScale`); undefined
   * while nothing is known (the default 1 is a placeholder, not a measurement). */
  get curvatureScale(): number | undefined {
    return this.scaleKnown ? this.hDiag : undefined;
  }

  /** `ops`: where the vectors live; by default x is a Float32Array and the work is JavaScript's. */
  constructor(
    readonly x: V,
    private readonly f: Objective<V>,
    opts: LbfgsOptions = {},
    ops?: VectorOps<V>,
  ) {
    this.history = opts.history ?? DEFAULT_HISTORY;
    this.maxLs = opts.maxLineSearch ?? MAX_LINE_SEARCH;
    this.tolChange = opts.toleranceChange ?? 1e-9;
    this.firstStep = opts.firstStep ?? 1;
    this.decreaseOnly = opts.decreaseOnly ?? false;
    if (opts.initialScale !== undefined && opts.initialScale > 0) {
      this.hDiag = opts.initialScale;
      this.scaleKnown = true;
    }
    this.ops = ops ?? hostOps<V>(x);
    this.trial = this.ops.take();
  }

  async step(): Promise<StepResult<V>> {
    let evals = 0;
    if (!this.current) {
      this.current = await this.f(this.x);
      evals++;
    }
    const { grad: g, loss } = this.current;
    this.iter++;
    const { d, gtd, maxAbs: dMax } = await this.direction(g);
    // Later steps trust the curvature (t = 1). The first has no curvature yet: move the steepest
    // pixel by `firstStep`, however small or large the gradient is. (torch's min(1, 1/|g|₁) is so
    // small for a large image, or for a loss normalised to ~1, that the loss change drowns in float32
    // rounding and the line search sees no progress.)
    this.t = this.iter === 1 && !this.scaleKnown ? this.firstStep / Math.max(await this.ops.maxAbs(g), 1e-30) : 1;
    // Converged when the step cannot be predicted to lower the loss by more than tolChange of it.
    // Relative: a loss normalised to ~1 over a million pixels has tiny slopes yet far to go.
    if (!(this.t * gtd < -this.tolChange * Math.abs(loss))) {
      this.ops.release(d);
      return { at: this.current, evals, converged: true };
    }

    const ls = await this.lineSearch(d, this.t, this.current, gtd, dMax);
    evals += ls.evals;
    this.t = ls.t;
    this.ops.along(this.x, this.x, this.t, d);
    this.prevGrad = g;
    this.dir = d;
    this.current = ls.at;
    const converged =
      Math.abs(ls.at.loss - loss) < this.tolChange * Math.abs(loss) || dMax * Math.abs(this.t) < this.tolChange;
    return { at: ls.at, evals, converged };
  }

  /** d = −H·g from the stored curvature pairs (the two-loop), after adding the last step's pair. */
  private async direction(g: V) {
    const { ops } = this;
    const d = ops.take();
    if (this.prevGrad !== undefined && this.dir !== undefined) {
      const prev = this.prevGrad;
      const sk = this.dir;
      const yk = ops.take();
      // Consumed: sk now belongs to the history or the spares (a step that returns early must
      // not scale it again next time).
      this.dir = undefined;
      this.prevGrad = undefined;
      const release = () => {
        // A step that stayed put (t = 0) kept g as its gradient.
        if (prev !== g) ops.release(prev);
      };
      if (ops.pairThenTwoLoop) {
        // One round trip: the direction as if the pair were kept, checked after.
        const drop = this.s.length === this.history ? 1 : 0;
        const r = await ops.pairThenTwoLoop(
          sk,
          this.t,
          g,
          prev,
          yk,
          [...this.s.slice(drop), sk],
          [...this.y.slice(drop), yk],
          [...this.rho.slice(drop), Number.NaN],
          d,
        );
        release();
        if (this.keepPair(sk, yk, r.ys, r.yy)) return { d, gtd: r.gtd, maxAbs: r.maxAbs };
      } else {
        const { ys, yy } = await ops.curvaturePair(sk, this.t, g, prev, yk);
        release();
        this.keepPair(sk, yk, ys, yy);
      }
    }
    return { d, ...(await ops.twoLoop(g, this.s, this.y, this.rho, this.hDiag, d)) };
  }

  /** Add the pair to the history if it has positive curvature (else release it); whether it did. */
  private keepPair(sk: V, yk: V, ys: number, yy: number): boolean {
    const { ops } = this;
    if (!(ys > MIN_CURVATURE)) {
      ops.release(sk);
      ops.release(yk);
      return false;
    }
    if (this.s.length === this.history) {
      ops.release(this.s.shift()!);
      ops.release(this.y.shift()!);
      this.rho.shift();
    }
    this.s.push(sk);
    this.y.push(yk);
    this.rho.push(1 / ys);
    this.hDiag = ys / yy;
    this.scaleKnown = true;
    return true;
  }

  /** The evaluations of the running line search: all but the chosen one are released after it. */
  private made: Evaluation<V>[] = [];

  private async evalAt(t: number, d: V): Promise<Evaluation<V>> {
    this.ops.along(this.trial, this.x, t, d);
    const at = await this.f(this.trial);
    this.made.push(at);
    return at;
  }

  private async lineSearch(d: V, t0: number, at0: Evaluation<V>, gtd0: number, dNorm: number) {
    this.made = [];
    try {
      const r = await this.wolfe(d, t0, at0, gtd0, dNorm);
      for (const e of this.made) if (e !== r.at) this.ops.release(e.grad);
      return r;
    } catch (err) {
      for (const e of this.made) this.ops.release(e.grad);
      throw err;
    } finally {
      this.made = [];
    }
  }

  /** Strong Wolfe conditions (c1 = 1e-4, c2 = 0.9): bracket, then zoom with cubic interpolation. */
  private async wolfe(d: V, t0: number, at0: Evaluation<V>, gtd0: number, dNorm: number) {
    const c1 = 1e-4;
    const c2 = 0.9;
    const f0 = at0.loss;
    let t = t0;
    let cur = await this.evalAt(t, d);
    let evals = 1;
    if (this.decreaseOnly && cur.loss <= f0 + c1 * t * gtd0) return { t, at: cur, evals: 1 };
    let gtd = await this.ops.dot(cur.grad, d);
    let prev = { t: 0, at: at0, gtd: gtd0 };
    type Point = { t: number; at: Evaluation<V>; gtd: number };
    let bracket: Point[] | undefined;
    let done = false;
    while (evals < this.maxLs) {
      if (cur.loss > f0 + c1 * t * gtd0 || (evals > 1 && cur.loss >= prev.at.loss) || gtd >= 0) {
        bracket = [prev, { t, at: cur, gtd }];
        break;
      }
      if (Math.abs(gtd) <= -c2 * gtd0) {
        bracket = [{ t, at: cur, gtd }];
        done = true;
        break;
      }
      const next = cubicMin(prev.t, prev.at.loss, prev.gtd, t, cur.loss, gtd, t + 0.01 * (t - prev.t), t * 10);
      prev = { t, at: cur, gtd };
      t = next;
      cur = await this.evalAt(t, d);
      evals++;
      gtd = await this.ops.dot(cur.grad, d);
    }
    if (!bracket)
      bracket = [
        { t: 0, at: at0, gtd: gtd0 },
        { t, at: cur, gtd },
      ];
    if (done || bracket.length === 1) return { t: bracket[0].t, at: bracket[0].at, evals };

    // Zoom: shrink [lo, hi] until the strong Wolfe conditions hold.
    let [lo, hi] = bracket[0].at.loss <= bracket[1].at.loss ? [bracket[0], bracket[1]] : [bracket[1], bracket[0]];
    let insufficient = false;
    while (!done && evals < this.maxLs) {
      if (Math.abs(hi.t - lo.t) * dNorm < this.tolChange) break;
      const a = Math.min(lo.t, hi.t);
      const b = Math.max(lo.t, hi.t);
      t = cubicMin(lo.t, lo.at.loss, lo.gtd, hi.t, hi.at.loss, hi.gtd, a, b);
      const eps = 0.1 * (b - a);
      if (Math.min(b - t, t - a) < eps) {
        // Too close to an end: move inwards (or accept once), as minFunc does.
        if (insufficient || t >= b || t <= a) {
          t = Math.abs(t - b) < Math.abs(t - a) ? b - eps : a + eps;
          insufficient = false;
        } else insufficient = true;
      } else insufficient = false;
      cur = await this.evalAt(t, d);
      evals++;
      gtd = await this.ops.dot(cur.grad, d);
      const p = { t, at: cur, gtd };
      if (cur.loss > f0 + c1 * t * gtd0 || cur.loss >= lo.at.loss) {
        hi = p;
        if (hi.at.loss < lo.at.loss) [lo, hi] = [hi, lo];
      } else {
        if (this.decreaseOnly || Math.abs(gtd) <= -c2 * gtd0) done = true;
        else if (gtd * (hi.t - lo.t) >= 0) hi = lo;
        lo = p;
      }
    }
    return { t: lo.t, at: lo.at, evals };
  }
}

/** Minimiser of the cubic through two points with slopes, clamped to [lo, hi]. */
export function cubicMin(
  x1: number,
  f1: number,
  g1: number,
  x2: number,
  f2: number,
  g2: number,
  lo: number,
  hi: number,
) {
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2sq = d1 * d1 - g1 * g2;
  if (d2sq >= 0 && Number.isFinite(d2sq)) {
    const d2 = Math.sqrt(d2sq);
    const m =
      x1 <= x2
        ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    if (Number.isFinite(m)) return Math.min(Math.max(m, lo), hi);
  }
  return (lo + hi) / 2;
}
