// L-BFGS's two-loop recursion, d = −H·g, in 2k + 1 passes over the vectors instead of the
// textbook's 4k + 2: each pass's update is fused with the dot product the next step needs (and
// the first with q = −g, the turn with the H₀ scaling, the last with g·d and max|d|). The image is
// large (0.8 M floats at 512 px): in JavaScript the optimiser's vector work cost more than a GPU
// evaluation, so passes count. Every value is rounded to float32 where the textbook version
// stores it and sums run in the same order, so the result is bit for bit the textbook's.

export interface TwoLoopResult {
  /** g·d: the slope along d (negative for a descent direction). */
  gtd: number;
  /** max |d_j|. */
  maxAbs: number;
}

/**
 * Writes d = −H·g into `q`, H being the L-BFGS inverse Hessian of the pairs (s_i, y_i) (oldest
 * first, ρ_i = 1/(y_i·s_i)) over H₀ = hDiag·I. `alpha` is scratch of at least s.length.
 */
export function twoLoop(
  g: Float32Array,
  s: readonly Float32Array[],
  y: readonly Float32Array[],
  rho: readonly number[],
  hDiag: number,
  q: Float32Array,
  alpha: Float64Array,
): TwoLoopResult {
  const n = g.length;
  const k = s.length;
  const f = Math.fround;
  let gtd = 0;
  let maxAbs = 0;
  if (k === 0) {
    for (let j = 0; j < n; j++) {
      const v = f(-g[j] * hDiag);
      q[j] = v;
      gtd += g[j] * v;
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    return { gtd, maxAbs };
  }
  // q = −g, with s_{k−1}·q.
  let acc = 0;
  const last = s[k - 1];
  for (let j = 0; j < n; j++) {
    const v = -g[j];
    q[j] = v;
    acc += last[j] * v;
  }
  // Newest to oldest: α_i = ρ_i·s_i·q, q −= α_i·y_i, with the next pair's s·q (or, after the
  // oldest, q scaled by H₀ and y_0·q for the second loop).
  for (let i = k - 1; i >= 0; i--) {
    const a = rho[i] * acc;
    alpha[i] = a;
    const yi = y[i];
    acc = 0;
    if (i > 0) {
      const next = s[i - 1];
      for (let j = 0; j < n; j++) {
        const v = f(q[j] - a * yi[j]);
        q[j] = v;
        acc += next[j] * v;
      }
    } else {
      for (let j = 0; j < n; j++) {
        const v = f(f(q[j] - a * yi[j]) * hDiag);
        q[j] = v;
        acc += yi[j] * v;
      }
    }
  }
  // Oldest to newest: β_i = ρ_i·y_i·q, q += (α_i − β_i)·s_i, with the next pair's y·q (or, after
  // the newest, g·d and max|d|).
  for (let i = 0; i < k; i++) {
    const c = alpha[i] - rho[i] * acc;
    const si = s[i];
    acc = 0;
    if (i < k - 1) {
      const next = y[i + 1];
      for (let j = 0; j < n; j++) {
        const v = f(q[j] + c * si[j]);
        q[j] = v;
        acc += next[j] * v;
      }
    } else {
      for (let j = 0; j < n; j++) {
        const v = f(q[j] + c * si[j]);
        q[j] = v;
        gtd += g[j] * v;
        maxAbs = Math.max(maxAbs, Math.abs(v));
      }
    }
  }
  return { gtd, maxAbs };
}
