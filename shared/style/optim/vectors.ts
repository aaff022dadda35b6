// The vector work of the optimisers, apart from their logic: on the host (Float32Array, here) or on
// the GPU (../webgpu/vectors.ts, where the image and its gradient already live). L-BFGS and Adam
// are written once against this interface; what returns a number reads it back.
import { type TwoLoopResult, twoLoop } from "./two-loop";
import { dot } from "./types";

export interface AdamStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** The bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ. */
  c1: number;
  c2: number;
}

/** A curvature pair with y·s at most this is dropped (the quasi-Newton update needs y·s > 0). */
export const MIN_CURVATURE = 1e-10;

export interface VectorOps<V> {
  /** Length of every vector. */
  readonly n: number;
  /** A vector with undefined contents, reusing a released one where it can. */
  take(): V;
  /** Done with `v` (it may come back from take()). */
  release(v: V): void;
  fromHost(a: Float32Array): V;
  toHost(v: V): Promise<Float32Array>;
  zero(v: V): void;
  dot(a: V, b: V): Promise<number>;
  maxAbs(a: V): Promise<number>;
  /** out = x + t·d (out may be x). */
  along(out: V, x: V, t: number, d: V): void;
  /** The curvature pair of the last step: s ← t·s in place, y ← g − prev; returns y·s and y·y. */
  curvaturePair(s: V, t: number, g: V, prev: V, y: V): Promise<{ ys: number; yy: number }>;
  /** d = −H·g for the pairs (s_i, y_i), oldest first, ρ_i = 1/(y_i·s_i), H₀ = hDiag·I. */
  twoLoop(g: V, s: readonly V[], y: readonly V[], rho: readonly number[], hDiag: number, d: V): Promise<TwoLoopResult>;
  /**
   * Optional, for ops where each read-back costs a round trip (a GPU): curvaturePair(sk, t, g,
   * prev, yk), then twoLoop over s and y, whose last pair is that new one (its ρ, the last of
   * `rho`, and H₀ are taken from y·s and y·y where they are computed), in one round trip. The
   * caller checks y·s afterwards, and if the pair is not to be kept, runs twoLoop without it.
   */
  pairThenTwoLoop?(
    sk: V,
    t: number,
    g: V,
    prev: V,
    yk: V,
    s: readonly V[],
    y: readonly V[],
    rho: readonly number[],
    d: V,
  ): Promise<{ ys: number; yy: number } & TwoLoopResult>;
  /** One Adam update of x from the gradient g and the moments m, v (all in place). */
  adam(x: V, g: V, m: V, v: V, a: AdamStep): void;
}

/** Released vectors kept for reuse beyond the optimiser's own working set are dropped. */
const SPARE_LIMIT = 6;

/** The optimisers' vector work in JavaScript; dot products accumulate in float64. */
export class HostVectors implements VectorOps<Float32Array> {
  private readonly spare: Float32Array[] = [];
  private alpha = new Float64Array(0);

  constructor(readonly n: number) {}

  take(): Float32Array {
    return this.spare.pop() ?? new Float32Array(this.n);
  }

  release(v: Float32Array): void {
    if (v.length === this.n && this.spare.length < SPARE_LIMIT && !this.spare.includes(v)) this.spare.push(v);
  }

  fromHost(a: Float32Array): Float32Array {
    return a;
  }

  async toHost(v: Float32Array): Promise<Float32Array> {
    return v;
  }

  zero(v: Float32Array): void {
    v.fill(0);
  }

  async dot(a: Float32Array, b: Float32Array): Promise<number> {
    return dot(a, b);
  }

  async maxAbs(a: Float32Array): Promise<number> {
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
    return m;
  }

  along(out: Float32Array, x: Float32Array, t: number, d: Float32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = x[i] + t * d[i];
  }

  async curvaturePair(s: Float32Array, t: number, g: Float32Array, prev: Float32Array, y: Float32Array) {
    // One pass: the three vectors are large, and this runs every step.
    let ys = 0;
    let yy = 0;
    for (let i = 0; i < s.length; i++) {
      const sv = Math.fround(s[i] * t);
      const yv = Math.fround(g[i] - prev[i]);
      s[i] = sv;
      y[i] = yv;
      ys += yv * sv;
      yy += yv * yv;
    }
    return { ys, yy };
  }

  async twoLoop(
    g: Float32Array,
    s: readonly Float32Array[],
    y: readonly Float32Array[],
    rho: readonly number[],
    hDiag: number,
    d: Float32Array,
  ): Promise<TwoLoopResult> {
    if (this.alpha.length < s.length) this.alpha = new Float64Array(s.length);
    return twoLoop(g, s, y, rho, hDiag, d, this.alpha);
  }

  adam(x: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, a: AdamStep): void {
    const { beta1: b1, beta2: b2 } = a;
    for (let i = 0; i < x.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      x[i] -= (a.lr * (m[i] / a.c1)) / (Math.sqrt(v[i] / a.c2) + a.eps);
    }
  }
}

/** JavaScript's vector work, for an optimiser whose x is a Float32Array (the default). */
export function hostOps<V>(x: V): VectorOps<V> {
  if (!(x instanceof Float32Array)) throw new Error("an optimiser of a GPU vector needs that GPU's VectorOps");
  return new HostVectors(x.length) as unknown as VectorOps<V>;
}
