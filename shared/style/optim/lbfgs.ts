// L-BFGS with a strong-Wolfe line search (cubic interpolation), following minFunc and
// torch.optim.LBFGS — the optimiser jcjohnson/neural-style uses, and the best one for this loss.
// Vectors are Float32Array (the image is large); dot products accumulate in float64.
import { twoLoop } from "./two-loop";
import { axpy, dot, type Evaluation, type Objective, type Optimizer, type StepResult } from "./types";

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

export class Lbfgs implements Optimizer {
  private readonly s: Float32Array[] = [];
  private readonly y: Float32Array[] = [];
  private readonly rho: number[] = [];
  private current?: Evaluation;
  private prevGrad?: Float32Array;
  private dir?: Float32Array;
  private t = 1;
  private hDiag = 1;
  private iter = 0;
  private readonly history: number;
  private readonly maxLs: number;
  private readonly tolChange: number;
  private readonly firstStep: number;
  private readonly decreaseOnly: boolean;
  private readonly trial: Float32Array;
  private scaleKnown = false;
  /** The two-loop's α_i. */
  private readonly alpha: Float64Array;
  /** Vectors no longer in use (dropped curvature pairs), reused: no 3 MB allocations per step. */
  private readonly spare: Float32Array[] = [];

  /** The inverse-Hessian scale (sᵀy/yᵀy of the last curvature pair, else `initialScale`); undefined
   * while nothing is known (the default 1 is a placeholder, not a measurement). */
  get curvatureScale(): number | undefined {
    return this.scaleKnown ? this.hDiag : undefined;
  }

  constructor(
    readonly x: Float32Array,
    private readonly f: Objective,
    opts: LbfgsOptions = {},
  ) {
    this.history = opts.history ?? 10;
    this.maxLs = opts.maxLineSearch ?? 10;
    this.tolChange = opts.toleranceChange ?? 1e-9;
    this.firstStep = opts.firstStep ?? 1;
    this.decreaseOnly = opts.decreaseOnly ?? false;
    if (opts.initialScale !== undefined && opts.initialScale > 0) {
      this.hDiag = opts.initialScale;
      this.scaleKnown = true;
    }
    this.trial = new Float32Array(x.length);
    this.alpha = new Float64Array(this.history);
  }

  async step(): Promise<StepResult> {
    let evals = 0;
    if (!this.current) {
      this.current = await this.f(this.x);
      evals++;
    }
    const { grad: g, loss } = this.current;
    this.iter++;
    const { d, gtd, maxAbs: dMax } = this.direction(g);
    // Later steps trust the curvature (t = 1). The first has no curvature yet: move the steepest
    // pixel by `firstStep`, however small or large the gradient is. (torch's min(1, 1/|g|₁) is so
    // small for a large image, or for a loss normalised to ~1, that the loss change drowns in float32
    // rounding and the line search sees no progress.)
    this.t = this.iter === 1 && !this.scaleKnown ? this.firstStep / Math.max(maxAbs(g), 1e-30) : 1;
    // Converged when the step cannot be predicted to lower the loss by more than tolChange of it.
    // Relative: a loss normalised to ~1 over a million pixels has tiny slopes yet far to go.
    if (!(this.t * gtd < -this.tolChange * Math.abs(loss))) return { at: this.current, evals, converged: true };

    const ls = await this.lineSearch(d, this.t, this.current, gtd, dMax);
    evals += ls.evals;
    this.t = ls.t;
    axpy(this.t, d, this.x);
    this.prevGrad = g;
    this.dir = d;
    this.current = ls.at;
    const converged =
      Math.abs(ls.at.loss - loss) < this.tolChange * Math.abs(loss) || dMax * Math.abs(this.t) < this.tolChange;
    return { at: ls.at, evals, converged };
  }

  /** d = −H·g from the stored curvature pairs (two-loop.ts), after adding the last step's pair. */
  private direction(g: Float32Array) {
    const n = g.length;
    if (this.prevGrad && this.dir) {
      // One pass: s = t·d (in place), y = g − g_prev, y·s and y·y.
      const prev = this.prevGrad;
      const sk = this.dir;
      const yk = this.spare.pop() ?? new Float32Array(n);
      const t = this.t;
      let ys = 0;
      let yy = 0;
      for (let i = 0; i < n; i++) {
        const sv = Math.fround(sk[i] * t);
        const yv = Math.fround(g[i] - prev[i]);
        sk[i] = sv;
        yk[i] = yv;
        ys += yv * sv;
        yy += yv * yv;
      }
      if (ys > 1e-10) {
        if (this.s.length === this.history) {
          this.spare.push(this.s.shift()!, this.y.shift()!);
          this.rho.shift();
        }
        this.s.push(sk);
        this.y.push(yk);
        this.rho.push(1 / ys);
        this.hDiag = ys / yy;
        this.scaleKnown = true;
      } else this.spare.push(sk, yk);
      // Consumed: sk now belongs to the history or the spares (a step that returns early must
      // not scale it again next time).
      this.dir = undefined;
      this.prevGrad = undefined;
    }
    const d = this.spare.pop() ?? new Float32Array(n);
    return { d, ...twoLoop(g, this.s, this.y, this.rho, this.hDiag, d, this.alpha) };
  }

  private async evalAt(t: number, d: Float32Array): Promise<Evaluation> {
    const { trial, x } = this;
    for (let i = 0; i < x.length; i++) trial[i] = x[i] + t * d[i];
    return this.f(trial);
  }

  /** Strong Wolfe conditions (c1 = 1e-4, c2 = 0.9): bracket, then zoom with cubic interpolation. */
  private async lineSearch(d: Float32Array, t0: number, at0: Evaluation, gtd0: number, dNorm: number) {
    const c1 = 1e-4;
    const c2 = 0.9;
    const f0 = at0.loss;
    let t = t0;
    let cur = await this.evalAt(t, d);
    let evals = 1;
    if (this.decreaseOnly && cur.loss <= f0 + c1 * t * gtd0) return { t, at: cur, evals: 1 };
    let gtd = dot(cur.grad, d);
    let prev = { t: 0, at: at0, gtd: gtd0 };
    type Point = { t: number; at: Evaluation; gtd: number };
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
      gtd = dot(cur.grad, d);
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
      gtd = dot(cur.grad, d);
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

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
