// The working state one search thread owns: target, canvas and per-row prefix sums.
//
// Drawing colour c at opacity a over covered pixels (target t, canvas k, d = t − k) changes the
// squared error per channel by Σ[(d + a(k − c))² − d²] = a²·n·c² − 2a·c·G + H, where
//   G = Σt − (1−a)·Σk   (so the least-squares colour is c = G / (a·n), rounded and clamped:
//                        the error is a parabola in c, so that is the best byte value), and
//   H = 2a·Σd·k + a²·Σk²  (summed over the channels: only the total matters).
// With running sums of these per row, a covered span costs O(1) instead of O(width), so scoring
// a candidate is O(rows it covers). With a fixed opacity G and H are summed directly (4 numbers
// per pixel); with opacity chosen per shape their parts Σd, Σk, Σd·k, Σk² are (8 numbers).
// Only the rows a drawn shape touches are re-summed.
//
// The canvas is kept in floating point, so the predicted change is exact (not off by rounding).
//
// Focus: each pixel's error may carry a weight w ≥ 1 (more where detail matters). Every sum above
// then runs over w·(…), and n becomes W = Σw; with no weights W = n and the maths is unchanged.
// Palette: the colour is then the palette entry with the lowest error change, each entry scored
// by the same closed form (the parabola evaluated at that entry) — no search.
//
// Gradient fills (gradient-scorer.ts, gradient.ts): each prefix position also carries Σw·x·G-terms,
// Σw·x and Σw·x², so the s-weighted sums of a span (s affine in x along a row) cost O(1) too.
import type { Color } from "../shapes";
import { GradientScorer, type Ramp } from "./gradient-scorer";
import type { Spans } from "./raster";

export class Model {
  readonly width: number;
  readonly height: number;
  /** Target RGB (alpha already flattened), 0..255. */
  readonly target: Float64Array;
  /** Current canvas RGB, opaque, 0..255 as floats. */
  readonly canvas: Float64Array;
  /** Fixed opacity 1..255 the sums are specialised for, or 0 for any. */
  readonly alpha: number;
  /**
   * Numbers per prefix position: [G0 G1 G2 H W] (fixed) or [D0 D1 D2 K0 K1 K2 DK KK W] (any); with
   * gradients then [XG0 XG1 XG2 X XX] (fixed) or [XD0 XD1 XD2 XK0 XK1 XK2 X XX] (any), X = Σw·x.
   */
  readonly q: number;
  /** Numbers of the flat layout (5 or 9); the gradient ones follow. */
  readonly base: number;
  /** Gradient fills: the x-weighted sums are kept too. */
  readonly gradient: boolean;
  private readonly scorer: GradientScorer | null;
  /** Running sums per row (layout above); read by gradient-scorer.ts too. */
  readonly prefix: Float64Array;
  private readonly rowErr: Float64Array;
  private readonly dirty: Uint8Array;
  /** Per-pixel error weights (focus), or null: all 1. */
  private readonly weights: Float64Array | null;
  /** Allowed colours as flat RGB triples, or null: any colour. */
  readonly palette: Float64Array | null;
  /** Σw over the image (width × height without weights). */
  readonly totalWeight: number;
  /** Sum of (weighted) squared errors over RGB (canvas alpha is always 255, matching an opaque target). */
  total = 0;

  constructor(
    width: number,
    height: number,
    targetRgb: Float64Array,
    background: Color,
    alpha = 0,
    extras: { weights?: Float64Array; palette?: ArrayLike<number>; gradient?: boolean } = {},
  ) {
    this.width = width;
    this.height = height;
    this.target = targetRgb;
    this.alpha = alpha;
    this.weights = extras.weights ?? null;
    this.palette = extras.palette?.length ? Float64Array.from(extras.palette) : null;
    this.totalWeight = this.weights ? this.weights.reduce((s, w) => s + w, 0) : width * height;
    this.base = alpha ? 5 : 9;
    this.gradient = extras.gradient ?? false;
    this.q = this.base + (this.gradient ? (alpha ? 5 : 8) : 0);
    this.scorer = this.gradient ? new GradientScorer(this) : null;
    this.canvas = new Float64Array(width * height * 3);
    for (let i = 0; i < width * height; i++) {
      this.canvas[3 * i] = background.r;
      this.canvas[3 * i + 1] = background.g;
      this.canvas[3 * i + 2] = background.b;
    }
    this.prefix = new Float64Array(height * (width + 1) * this.q);
    this.rowErr = new Float64Array(height);
    this.dirty = new Uint8Array(height);
    for (let y = 0; y < height; y++) this.sumRow(y);
    this.recomputeTotal();
  }

  /** RMSE over RGBA scaled to 0..1 (the classic tool's score); alpha contributes nothing here. */
  score(total = this.total): number {
    return Math.sqrt(Math.max(0, total) / (this.totalWeight * 4)) / 255;
  }

  /** G per channel and H for the last accumulated spans, at the given opacity. */
  private readonly g = new Float64Array(3);
  private h = 0;

  /** Sums the covered pixels' G and H into `g`/`h` for opacity a (0..1]; returns their weight W. */
  private accumulate(spans: Spans, a: number): number {
    const P = this.prefix;
    const ys = spans.y;
    const x1s = spans.x1;
    const x2s = spans.x2;
    const count = spans.count;
    let n = 0;
    if (this.base === 5) {
      // Hot path (flat fills): five running sums, in locals.
      const q = this.q; // 5; more with gradient columns after them
      const stride = (this.width + 1) * q;
      let g0 = 0;
      let g1 = 0;
      let g2 = 0;
      let h = 0;
      for (let i = 0; i < count; i++) {
        const row = ys[i] * stride;
        const lo = row + x1s[i] * q;
        const hi = row + (x2s[i] + 1) * q;
        n += P[hi + 4] - P[lo + 4];
        g0 += P[hi] - P[lo];
        g1 += P[hi + 1] - P[lo + 1];
        g2 += P[hi + 2] - P[lo + 2];
        h += P[hi + 3] - P[lo + 3];
      }
      this.g[0] = g0;
      this.g[1] = g1;
      this.g[2] = g2;
      this.h = h;
      return n;
    }
    const q = this.q;
    const stride = (this.width + 1) * q;
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let k0 = 0;
    let k1 = 0;
    let k2 = 0;
    let dk = 0;
    let kk = 0;
    for (let i = 0; i < count; i++) {
      const row = ys[i] * stride;
      const lo = row + x1s[i] * q;
      const hi = row + (x2s[i] + 1) * q;
      n += P[hi + 8] - P[lo + 8];
      d0 += P[hi] - P[lo];
      d1 += P[hi + 1] - P[lo + 1];
      d2 += P[hi + 2] - P[lo + 2];
      k0 += P[hi + 3] - P[lo + 3];
      k1 += P[hi + 4] - P[lo + 4];
      k2 += P[hi + 5] - P[lo + 5];
      dk += P[hi + 6] - P[lo + 6];
      kk += P[hi + 7] - P[lo + 7];
    }
    // G = Σt − (1−a)Σk = Σd + a·Σk.
    this.g[0] = d0 + a * k0;
    this.g[1] = d1 + a * k1;
    this.g[2] = d2 + a * k2;
    this.h = 2 * a * dk + a * a * kk;
    return n;
  }

  private checkAlpha(alpha: number): void {
    if (this.alpha && alpha !== this.alpha)
      throw new Error(`model is specialised for alpha ${this.alpha}, not ${alpha}`);
  }

  /**
   * Best colour for the covered pixels at opacity alpha (1..255), written to out[0..2], and the
   * change in total squared error if the shape were drawn with it (negative = better).
   */
  energy(spans: Spans, alpha: number, out: Int32Array): number {
    this.checkAlpha(alpha);
    const a = alpha / 255;
    const n = this.accumulate(spans, a);
    if (n === 0) {
      out[0] = out[1] = out[2] = 0;
      return 0;
    }
    const an = a * n;
    if (this.palette) return this.bestOfPalette(a, an, out);
    let delta = this.h;
    for (let ch = 0; ch < 3; ch++) {
      const g = this.g[ch];
      let c = Math.round(g / an);
      c = c < 0 ? 0 : Math.min(c, 255);
      out[ch] = c;
      delta += a * c * (an * c - 2 * g);
    }
    return delta;
  }

  /** The palette entry with the lowest error change (into out) and that change. */
  private bestOfPalette(a: number, an: number, out: Int32Array): number {
    const pal = this.palette!;
    let best = Number.POSITIVE_INFINITY;
    let at = 0;
    for (let i = 0; i < pal.length; i += 3) {
      let delta = this.h;
      for (let ch = 0; ch < 3; ch++) delta += a * pal[i + ch] * (an * pal[i + ch] - 2 * this.g[ch]);
      if (delta < best) {
        best = delta;
        at = i;
      }
    }
    out[0] = pal[at];
    out[1] = pal[at + 1];
    out[2] = pal[at + 2];
    return best;
  }

  /** The palette colour nearest to out[0..2] (RGB distance), written back; no-op without a palette. */
  snapToPalette(out: Int32Array): void {
    const pal = this.palette;
    if (!pal) return;
    let best = Number.POSITIVE_INFINITY;
    let at = 0;
    for (let i = 0; i < pal.length; i += 3) {
      const d = (pal[i] - out[0]) ** 2 + (pal[i + 1] - out[1]) ** 2 + (pal[i + 2] - out[2]) ** 2;
      if (d < best) {
        best = d;
        at = i;
      }
    }
    out[0] = pal[at];
    out[1] = pal[at + 1];
    out[2] = pal[at + 2];
  }

  /** The change in total squared error for drawing the spans with a given colour. */
  delta(spans: Spans, alpha: number, color: ArrayLike<number>): number {
    this.checkAlpha(alpha);
    const a = alpha / 255;
    const n = this.accumulate(spans, a);
    if (n === 0) return 0;
    let delta = this.h;
    for (let ch = 0; ch < 3; ch++) delta += a * color[ch] * (a * n * color[ch] - 2 * this.g[ch]);
    return delta;
  }

  /**
   * Gradient fill: the best stop colours into c0, c1 and the error change they give, the direction
   * fitted (or at `angle` degrees, for tests), the ramp where `ramp` puts it. See gradient-scorer.ts.
   */
  energyGradient(spans: Spans, alpha: number, c0: Int32Array, c1: Int32Array, ramp?: Ramp, angle?: number): number {
    this.checkAlpha(alpha);
    return this.scorer!.energy(spans, alpha / 255, c0, c1, ramp, angle);
  }

  /** energyGradient with another ramp, for the spans and opacity of the last call (same shape). */
  energyGradientRamp(spans: Spans, alpha: number, c0: Int32Array, c1: Int32Array, ramp: Ramp): number {
    this.checkAlpha(alpha);
    return this.scorer!.rewindow(spans, alpha / 255, c0, c1, ramp);
  }

  /** The stop points [x1, y1, x2, y2] of the last energyGradient on these spans (or at `angle`). */
  gradientStops(spans: Spans, out: Float64Array, angle = Number.NaN): void {
    this.scorer!.stops(spans, out, angle);
  }

  /**
   * Draws the spans with a gradient from c0 at (x1, y1) to c1 at (x2, y2) (stops = [x1 y1 x2 y2]),
   * s clamped to [0, 1] as renderers pad, at opacity alpha; updates the sums and total.
   */
  drawGradient(
    spans: Spans,
    c0: ArrayLike<number>,
    c1: ArrayLike<number>,
    alpha: number,
    stops: ArrayLike<number>,
  ): void {
    const a = alpha / 255;
    const keep = 1 - a;
    const ex = stops[2] - stops[0];
    const ey = stops[3] - stops[1];
    const e2 = ex * ex + ey * ey;
    const c = this.canvas;
    const w = this.width;
    for (let i = 0; i < spans.count; i++) {
      const y = spans.y[i];
      this.dirty[y] = 1;
      for (let x = spans.x1[i]; x <= spans.x2[i]; x++) {
        let s = e2 > 0 ? ((x + 0.5 - stops[0]) * ex + (y + 0.5 - stops[1]) * ey) / e2 : 0;
        s = s < 0 ? 0 : Math.min(s, 1);
        const j = (y * w + x) * 3;
        for (let ch = 0; ch < 3; ch++) c[j + ch] = c[j + ch] * keep + a * ((1 - s) * c0[ch] + s * c1[ch]);
      }
    }
    this.resum(spans);
  }

  /** Mean target colour under the spans into out[0..2]; false when they cover nothing (not hot). */
  meanTarget(spans: Spans, out: Int32Array): boolean {
    let n = 0;
    const sum = [0, 0, 0];
    for (let i = 0; i < spans.count; i++) {
      for (let x = spans.x1[i]; x <= spans.x2[i]; x++, n++) {
        const j = 3 * (spans.y[i] * this.width + x);
        for (let ch = 0; ch < 3; ch++) sum[ch] += this.target[j + ch];
      }
    }
    if (n === 0) return false;
    for (let ch = 0; ch < 3; ch++) out[ch] = Math.round(sum[ch] / n);
    return true;
  }

  /** Draws the spans with colour (r, g, b) at opacity alpha and updates the sums and total. */
  draw(spans: Spans, r: number, g: number, b: number, alpha: number): void {
    const a = alpha / 255;
    const keep = 1 - a;
    const ar = a * r;
    const ag = a * g;
    const ab = a * b;
    const c = this.canvas;
    const w = this.width;
    for (let i = 0; i < spans.count; i++) {
      const y = spans.y[i];
      this.dirty[y] = 1;
      for (let j = (y * w + spans.x1[i]) * 3, end = (y * w + spans.x2[i] + 1) * 3; j < end; j += 3) {
        c[j] = c[j] * keep + ar;
        c[j + 1] = c[j + 1] * keep + ag;
        c[j + 2] = c[j + 2] * keep + ab;
      }
    }
    this.resum(spans);
  }

  /** Re-sums the rows drawing marked dirty, and the total. */
  private resum(spans: Spans): void {
    for (let i = 0; i < spans.count; i++) {
      const y = spans.y[i];
      if (this.dirty[y]) {
        this.dirty[y] = 0;
        this.sumRow(y);
      }
    }
    this.recomputeTotal();
  }

  private recomputeTotal(): void {
    let total = 0;
    for (let y = 0; y < this.height; y++) total += this.rowErr[y];
    this.total = total;
  }

  private sumRow(y: number): void {
    const P = this.prefix;
    const t = this.target;
    const c = this.canvas;
    const q = this.q;
    const base = this.base;
    const a = this.alpha / 255;
    const wts = this.weights;
    let o = y * (this.width + 1) * q;
    for (let i = 0; i < q; i++) P[o + i] = 0;
    let err = 0;
    for (let x = 0, j = y * this.width * 3; x < this.width; x++, j += 3) {
      const n = o + q;
      if (wts) {
        err += this.sumWeighted(o, j, wts[y * this.width + x]);
        o = n;
        continue;
      }
      let dk = 0;
      let kk = 0;
      for (let ch = 0; ch < 3; ch++) {
        const tv = t[j + ch];
        const kv = c[j + ch];
        const d = tv - kv;
        err += d * d;
        dk += d * kv;
        kk += kv * kv;
        if (base === 5) {
          P[n + ch] = P[o + ch] + tv - (1 - a) * kv;
        } else {
          P[n + ch] = P[o + ch] + d;
          P[n + 3 + ch] = P[o + 3 + ch] + kv;
        }
      }
      if (base === 5) {
        P[n + 3] = P[o + 3] + 2 * a * dk + a * a * kk;
      } else {
        P[n + 6] = P[o + 6] + dk;
        P[n + 7] = P[o + 7] + kk;
      }
      P[n + base - 1] = P[o + base - 1] + 1;
      o = n;
    }
    this.rowErr[y] = err;
    if (this.gradient) this.sumRowX(y);
  }

  /** The gradient columns of row y: each flat G-part (or D, K) times w·x, then Σw·x and Σw·x². */
  private sumRowX(y: number): void {
    const P = this.prefix;
    const q = this.q;
    const base = this.base;
    const a = this.alpha / 255;
    const wts = this.weights;
    let o = y * (this.width + 1) * q;
    for (let x = 0, j = y * this.width * 3; x < this.width; x++, j += 3) {
      const n = o + q;
      const wx = wts ? wts[y * this.width + x] * x : x;
      for (let ch = 0; ch < 3; ch++) {
        const tv = this.target[j + ch];
        const kv = this.canvas[j + ch];
        if (base === 5) P[n + 5 + ch] = P[o + 5 + ch] + wx * (tv - (1 - a) * kv);
        else {
          P[n + 9 + ch] = P[o + 9 + ch] + wx * (tv - kv);
          P[n + 12 + ch] = P[o + 12 + ch] + wx * kv;
        }
      }
      P[n + q - 2] = P[o + q - 2] + wx;
      P[n + q - 1] = P[o + q - 1] + wx * x;
      o = n;
    }
  }

  /** One pixel's prefix step with error weight w (focus): every term times w, W grows by w. Returns its weighted error. */
  private sumWeighted(o: number, j: number, w: number): number {
    const P = this.prefix;
    const q = this.q;
    const base = this.base;
    const a = this.alpha / 255;
    const n = o + q;
    let dk = 0;
    let kk = 0;
    let err = 0;
    for (let ch = 0; ch < 3; ch++) {
      const tv = this.target[j + ch];
      const kv = this.canvas[j + ch];
      const d = tv - kv;
      err += d * d;
      dk += d * kv;
      kk += kv * kv;
      if (base === 5) P[n + ch] = P[o + ch] + w * (tv - (1 - a) * kv);
      else {
        P[n + ch] = P[o + ch] + w * d;
        P[n + 3 + ch] = P[o + 3 + ch] + w * kv;
      }
    }
    if (base === 5) P[n + 3] = P[o + 3] + w * (2 * a * dk + a * a * kk);
    else {
      P[n + 6] = P[o + 6] + w * dk;
      P[n + 7] = P[o + 7] + w * kk;
    }
    P[n + base - 1] = P[o + base - 1] + w;
    return w * err;
  }
}

const WHITE: Color = { r: 255, g: 255, b: 255, a: 255 };

/**
 * Flattens RGBA onto a matte colour (default white) as floats: the canvas is opaque, so a
 * transparent part of a layer is matched as the colour that would show behind it.
 */
export function targetRgb(
  data: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  matte: Color = WHITE,
): Float64Array {
  const out = new Float64Array(width * height * 3);
  const m = [matte.r, matte.g, matte.b];
  for (let i = 0; i < width * height; i++) {
    const a = data[4 * i + 3] / 255;
    for (let ch = 0; ch < 3; ch++) out[3 * i + ch] = data[4 * i + ch] * a + m[ch] * (1 - a);
  }
  return out;
}

/** The target's mean colour, the default background. */
export function averageColor(rgb: Float64Array): Color {
  const sum = [0, 0, 0];
  for (let i = 0; i < rgb.length; i += 3) for (let ch = 0; ch < 3; ch++) sum[ch] += rgb[i + ch];
  const n = rgb.length / 3;
  return { r: Math.round(sum[0] / n), g: Math.round(sum[1] / n), b: Math.round(sum[2] / n), a: 255 };
}
