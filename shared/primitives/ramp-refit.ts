// The final refit's gradient part (refit.ts): each gradient shape's ramp — its two stop points —
// climbed again against the finished picture, its two colours solved in closed form for each try
// (solveGradient, the search's own solver). A try costs O(rows), not O(pixels): along a row the
// ramp position s is affine in x, so a row's covered pixels split into at most three stretches
// (s clamped to 0, affine, clamped to 1), each summed from running sums over the shape's pixels —
// the same idea as the search's model (model.ts), here over the shape's own pixel list.
import { GradientSums, solveGradient } from "./gradient";
import type { Found } from "./messages";
import type { Unknown } from "./refit";
import { Rng } from "./rng";

/** A gradient shape: its pixels' strengths m, and its two colours as refit.ts's unknowns. */
export type Ramp = {
  k: number;
  f: Found & { gradient: NonNullable<Found["gradient"]> };
  m: Float64Array;
  near: Unknown;
  far: Unknown;
};

/** A ramp's climb ends after this many moves in a row that did not lower the error. */
const RAMP_AGE = 30;
/** Running sums per pixel: w', w'·x, w'·x², then per channel w'r', w'r'·x (x = the pixel centre). */
const Q = 9;

/**
 * Climbs r's stops (one coordinate at a time by 0.2, 0.1 or 0.05 of the ramp's length), keeping
 * a move while the error falls; then writes its bases, colours and stops back and puts the shape
 * back into `residual` (target − result).
 */
export function refitRamp(
  r: Ramp,
  residual: Float64Array,
  width: number,
  weights: Float64Array | undefined,
  palette: Float64Array | null,
): void {
  const { pixels } = r.near;
  const n = pixels.length;
  const m = r.m;
  // the residual without this shape
  const r0 = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const j = 3 * pixels[i];
    for (let ch = 0; ch < 3; ch++)
      r0[3 * i + ch] = residual[j + ch] + r.near.basis[i] * r.near.color[ch] + r.far.basis[i] * r.far.color[ch];
  }
  const { evaluate, c0, c1 } = rampScorer({ pixels, m, r0, alpha: r.f.alpha, width, weights, palette });
  const stops = [...r.f.gradient.stops] as [number, number, number, number];
  let energy = evaluate(stops);
  let col0 = Array.from(c0);
  let col1 = Array.from(c1);
  const rng = new Rng(r.k, 7);
  const trial = [...stops];
  for (let age = 0; age < RAMP_AGE; age++) {
    trial.splice(0, 4, ...stops);
    const length = Math.sqrt((stops[2] - stops[0]) ** 2 + (stops[3] - stops[1]) ** 2) || 1;
    trial[rng.int(4)] += (rng.normal() * 0.2 * length) / (1 << rng.int(3));
    const e = evaluate(trial);
    if (e < energy) {
      energy = e;
      stops.splice(0, 4, ...trial);
      col0 = Array.from(c0);
      col1 = Array.from(c1);
      age = -1;
    }
  }

  // the new ramp's bases and colours (as Model.drawGradient draws it), and the shape back in
  const ex = stops[2] - stops[0];
  const ey = stops[3] - stops[1];
  const e2 = ex * ex + ey * ey;
  for (let i = 0; i < n; i++) {
    const x = pixels[i] % width;
    const y = (pixels[i] - x) / width;
    let s = e2 > 0 ? ((x + 0.5 - stops[0]) * ex + (y + 0.5 - stops[1]) * ey) / e2 : 0;
    s = s < 0 ? 0 : Math.min(s, 1);
    r.near.basis[i] = m[i] * (1 - s);
    r.far.basis[i] = m[i] * s;
    const j = 3 * pixels[i];
    for (let ch = 0; ch < 3; ch++)
      residual[j + ch] = r0[3 * i + ch] - r.near.basis[i] * col0[ch] - r.far.basis[i] * col1[ch];
  }
  r.f.gradient.stops = stops;
  for (let ch = 0; ch < 3; ch++) {
    r.near.color[ch] = col0[ch];
    r.far.color[ch] = col1[ch];
  }
}

export type RampPixels = {
  /** The shape's pixels (index y·width + x, rows in order, x rising) and their strengths m. */
  pixels: Int32Array;
  m: Float64Array;
  /** Target − result without this shape, 3 per pixel of the list. */
  r0: Float64Array;
  /** The shape's opacity, 1..255. */
  alpha: number;
  width: number;
  weights?: Float64Array;
  palette: Float64Array | null;
};

/**
 * evaluate(stops): the error change (from Σw·r0²) of the shape with a ramp between the two stop
 * points and its best colours for it, which it leaves in c0 and c1.
 */
export function rampScorer({ pixels, m, r0, alpha, width, weights, palette }: RampPixels) {
  const n = pixels.length;
  const a = alpha / 255;
  // Running sums in the solver's terms: each pixel weighs w' = w·(m/a)² (the shape's opacity a standing in for its strength m there) and asks
  // for r' = a·r0/m, so w'r' = w·m·r0/a. Hidden pixels (m = 0) add nothing.
  const sums = new Float64Array(Q * (n + 1));
  // Rows of consecutive pixels: first pixel index, its x, the row's centre y.
  const rowStart: number[] = [];
  const rowX: number[] = [];
  const rowY: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = pixels[i];
    const x = p % width;
    if (i === 0 || p !== pixels[i - 1] + 1 || x === 0) {
      rowStart.push(i);
      rowX.push(x);
      rowY.push((p - x) / width + 0.5);
    }
    const w = weights ? weights[p] : 1;
    const wq = w * (m[i] / a) * (m[i] / a);
    const cx = x + 0.5;
    const o = Q * i;
    sums[o + Q] = sums[o] + wq;
    sums[o + Q + 1] = sums[o + 1] + wq * cx;
    sums[o + Q + 2] = sums[o + 2] + wq * cx * cx;
    for (let ch = 0; ch < 3; ch++) {
      const t = r0[3 * i + ch];
      const wr = (w * m[i] * t) / a;
      sums[o + Q + 3 + ch] = sums[o + 3 + ch] + wr;
      sums[o + Q + 6 + ch] = sums[o + 6 + ch] + wr * cx;
    }
  }
  rowStart.push(n);
  const W = sums[Q * n];
  const G = [sums[Q * n + 3], sums[Q * n + 4], sums[Q * n + 5]];
  const gs = new GradientSums();
  const c0 = new Int32Array(3);
  const c1 = new Int32Array(3);

  /** The error change of the best colours for stops `st` (colours into c0, c1). */
  const evaluate = (st: ArrayLike<number>): number => {
    const ex = st[2] - st[0];
    const ey = st[3] - st[1];
    const e2 = ex * ex + ey * ey;
    const kx = e2 > 0 ? ex / e2 : 0;
    const ky = e2 > 0 ? ey / e2 : 0;
    let S1 = 0;
    let S2 = 0;
    let q0 = 0;
    let q1 = 0;
    let q2 = 0;
    for (let row = 0; row + 1 < rowStart.length; row++) {
      const first = rowStart[row];
      const len = rowStart[row + 1] - first;
      // s = kx·cx + b along the row: [lo, hi) affine, the rest clamped to 0 or 1 by the slope's sign
      const b = (rowY[row] - st[1]) * ky - st[0] * kx;
      let lo = 0;
      let hi = 0;
      // the pixels clamped to 1: [ones, onesEnd)
      let ones = 0;
      let onesEnd = 0;
      if (kx === 0) {
        if (b >= 1) onesEnd = len;
        else if (b > 0) hi = len;
      } else {
        const zero = -b / kx - rowX[row] - 0.5; // where s = 0, in pixels from the row's start
        const one = (1 - b) / kx - rowX[row] - 0.5;
        lo = Math.min(len, Math.max(0, Math.ceil(kx > 0 ? zero : one)));
        hi = Math.min(len, Math.max(lo, Math.floor(kx > 0 ? one : zero) + 1));
        if (kx > 0) {
          ones = hi;
          onesEnd = len;
        } else onesEnd = lo;
      }
      if (onesEnd > ones) {
        const o0 = Q * (first + ones);
        const o1 = Q * (first + onesEnd);
        const sw = sums[o1] - sums[o0];
        S1 += sw;
        S2 += sw;
        q0 += sums[o1 + 3] - sums[o0 + 3];
        q1 += sums[o1 + 4] - sums[o0 + 4];
        q2 += sums[o1 + 5] - sums[o0 + 5];
      }
      if (hi > lo) {
        const o0 = Q * (first + lo);
        const o1 = Q * (first + hi);
        const sw = sums[o1] - sums[o0];
        const swx = sums[o1 + 1] - sums[o0 + 1];
        const swxx = sums[o1 + 2] - sums[o0 + 2];
        S1 += kx * swx + b * sw;
        S2 += kx * kx * swxx + 2 * kx * b * swx + b * b * sw;
        q0 += kx * (sums[o1 + 6] - sums[o0 + 6]) + b * (sums[o1 + 3] - sums[o0 + 3]);
        q1 += kx * (sums[o1 + 7] - sums[o0 + 7]) + b * (sums[o1 + 4] - sums[o0 + 4]);
        q2 += kx * (sums[o1 + 8] - sums[o0 + 8]) + b * (sums[o1 + 5] - sums[o0 + 5]);
      }
    }
    gs.set(W, S1, S2, 0, G[0], G[1], G[2], q0, q1, q2);
    return solveGradient(gs, a, palette, c0, c1);
  };

  return { evaluate, c0, c1 };
}
