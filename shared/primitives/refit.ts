// After the last shape: every shape's colour (both stops of a gradient) fitted again to the picture
// as it finally is. A shape's colour was the best one when it was drawn; the shapes drawn over it
// since change what is best for the part of it that still shows. With opacities and geometry
// fixed, the result is linear in the colours:
//   result(x) = B(x)·background + Σ_k m_k(x)·c_k(x),   m_k(x) = a_k · Π_{j>k covering x} (1 − a_j),
// with c_k(x) = (1 − s)·c0 + s·c1 along a gradient's ramp. So one colour at a time has a closed form
// (a parabola per channel, clamped to a byte; with a palette the nearest entry), every move lowers
// the error, and a few sweeps settle it (coordinate descent). A gradient's ramp (its stops) is
// climbed again too, against the finished picture, its two colours solved for each try.
import type { Color } from "../shapes";
import type { Found } from "./messages";
import { type Ramp, refitRamp } from "./ramp-refit";
import { Spans } from "./raster";

/** Sweeps over all colours; the third changes the score in the fifth digit. */
const SWEEPS = 3;
/** From this sweep on, gradient ramps are climbed again first (the colours settled once before). */
const RAMP_SWEEP = 1;
/** Above this many covered (shape, pixel) pairs the refit is skipped: ~12 bytes each, kept small for the plugin. */
export const MAX_REFIT_PIXELS = 4_000_000;

export type RefitInput = {
  width: number;
  height: number;
  /** Target RGB, 0..255, as the model has it. */
  target: Float64Array;
  /** Per-pixel error weights (focus, coverage), or undefined: all 1. */
  weights?: Float64Array;
  background: Color;
  /** Allowed colours as flat RGB triples, or undefined: any byte colour. */
  palette?: ArrayLike<number>;
};

/** One colour to fit: the pixels it reaches and how strongly (its basis), and its channels. */
export type Unknown = { pixels: Int32Array; basis: Float64Array; color: [number, number, number] };

/**
 * The shapes with their colours refitted, and the total weighted squared error before and after
 * (the model's total: Σ w·(target − result)² over RGB). Null when they cover too many pixels.
 */
export function refitColours(
  found: readonly Found[],
  input: RefitInput,
): { found: Found[]; before: number; after: number } | null {
  const { width, height, target, weights, background } = input;
  const n = width * height;
  const spans = new Spans(width, height);
  const covered: Int32Array[] = [];
  let pairs = 0;
  for (const f of found) {
    spans.rasterize(f.code, f.p);
    const pixels = new Int32Array(spans.area());
    let i = 0;
    for (let r = 0; r < spans.count; r++)
      for (let x = spans.x1[r]; x <= spans.x2[r]; x++) pixels[i++] = spans.y[r] * width + x;
    covered.push(pixels);
    pairs += pixels.length;
    if (pairs > MAX_REFIT_PIXELS) return null;
  }

  // m_k from the top shape down; what is left over is the background's share
  const shown = new Float64Array(n).fill(1);
  const strength: Float64Array[] = new Array(found.length);
  for (let k = found.length - 1; k >= 0; k--) {
    const a = found[k].alpha / 255;
    const pixels = covered[k];
    const m = new Float64Array(pixels.length);
    for (let i = 0; i < pixels.length; i++) {
      m[i] = a * shown[pixels[i]];
      shown[pixels[i]] *= 1 - a;
    }
    strength[k] = m;
  }

  const out = found.map((f) => ({
    ...f,
    color: [...f.color] as Found["color"],
    ...(f.gradient && { gradient: { ...f.gradient, color: [...f.gradient.color] as Found["color"] } }),
  }));
  const unknowns: Unknown[] = [];
  const ramps: Ramp[] = [];
  for (const [k, f] of out.entries()) {
    const pixels = covered[k];
    const m = strength[k];
    if (!f.gradient) {
      unknowns.push({ pixels, basis: m, color: f.color });
      continue;
    }
    // s along the ramp, clamped as renderers pad (as Model.drawGradient draws it)
    const [x1, y1, x2, y2] = f.gradient.stops;
    const ex = x2 - x1;
    const ey = y2 - y1;
    const e2 = ex * ex + ey * ey;
    const near = new Float64Array(pixels.length);
    const far = new Float64Array(pixels.length);
    for (let i = 0; i < pixels.length; i++) {
      const x = pixels[i] % width;
      const y = (pixels[i] - x) / width;
      let s = e2 > 0 ? ((x + 0.5 - x1) * ex + (y + 0.5 - y1) * ey) / e2 : 0;
      s = s < 0 ? 0 : Math.min(s, 1);
      near[i] = m[i] * (1 - s);
      far[i] = m[i] * s;
    }
    const pair = {
      near: { pixels, basis: near, color: f.color },
      far: { pixels, basis: far, color: f.gradient.color },
    };
    unknowns.push(pair.near, pair.far);
    ramps.push({ k, f: f as Found & { gradient: NonNullable<Found["gradient"]> }, m, ...pair });
  }

  // residual = target − result
  const residual = new Float64Array(3 * n);
  for (let p = 0; p < n; p++) {
    residual[3 * p] = target[3 * p] - shown[p] * background.r;
    residual[3 * p + 1] = target[3 * p + 1] - shown[p] * background.g;
    residual[3 * p + 2] = target[3 * p + 2] - shown[p] * background.b;
  }
  for (const u of unknowns) addScaled(residual, u, u.color, -1);
  const before = squaredError(residual, weights);

  const best = [0, 0, 0];
  const change = [0, 0, 0];
  const palette = input.palette?.length ? Float64Array.from(input.palette) : null;
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    if (sweep >= RAMP_SWEEP) for (const r of ramps) refitRamp(r, residual, width, weights, palette);
    for (const u of unknowns) {
      let bb = 0;
      let b0 = 0;
      let b1 = 0;
      let b2 = 0;
      for (let i = 0; i < u.pixels.length; i++) {
        const b = u.basis[i];
        const wb = weights ? weights[u.pixels[i]] * b : b;
        const j = 3 * u.pixels[i];
        bb += wb * b;
        b0 += wb * residual[j];
        b1 += wb * residual[j + 1];
        b2 += wb * residual[j + 2];
      }
      if (bb === 0) continue; // hidden everywhere: any colour is as good
      best[0] = u.color[0] + b0 / bb;
      best[1] = u.color[1] + b1 / bb;
      best[2] = u.color[2] + b2 / bb;
      const next = input.palette?.length ? nearest(input.palette, best) : best.map(toByte);
      for (let ch = 0; ch < 3; ch++) change[ch] = next[ch] - u.color[ch];
      if (change[0] === 0 && change[1] === 0 && change[2] === 0) continue;
      addScaled(residual, u, change, -1);
      u.color[0] = next[0];
      u.color[1] = next[1];
      u.color[2] = next[2];
    }
  }
  return { found: out, before, after: squaredError(residual, weights) };
}

const toByte = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** residual += sign · basis · colour, per channel. */
function addScaled(residual: Float64Array, u: Unknown, color: ArrayLike<number>, sign: number): void {
  for (let i = 0; i < u.pixels.length; i++) {
    const b = sign * u.basis[i];
    const j = 3 * u.pixels[i];
    residual[j] += b * color[0];
    residual[j + 1] += b * color[1];
    residual[j + 2] += b * color[2];
  }
}

function squaredError(residual: Float64Array, weights?: Float64Array): number {
  let total = 0;
  for (let p = 0; p < residual.length / 3; p++) {
    const e = residual[3 * p] ** 2 + residual[3 * p + 1] ** 2 + residual[3 * p + 2] ** 2;
    total += weights ? weights[p] * e : e;
  }
  return total;
}

/** The palette entry nearest to `c` (the error is the same parabola in every channel). */
function nearest(palette: ArrayLike<number>, c: number[]): number[] {
  let at = 0;
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i < palette.length; i += 3) {
    const d = (palette[i] - c[0]) ** 2 + (palette[i + 1] - c[1]) ** 2 + (palette[i + 2] - c[2]) ** 2;
    if (d < least) {
      least = d;
      at = i;
    }
  }
  return [palette[at], palette[at + 1], palette[at + 2]];
}
