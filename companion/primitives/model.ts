// The working state one search thread owns: target, canvas and per-row prefix sums.
//
// Why prefix sums: for a shape of colour c and opacity a over covered pixels, both the best c
// (least squares, closed form) and the change in squared error are functions of five sums per
// channel over the covered pixels: n, Σt, Σk, Σk², Σt·k (t = target, k = canvas). With running
// sums per row, each covered span costs O(1) instead of O(width), so scoring a candidate is
// O(rows it covers). Only rows a shape touches are re-summed when it is drawn.
//
// The canvas is kept in floating point, so the error of a colour is an exact quadratic in c and
// the rounded closed-form colour is the true best byte value.
import type { Color } from "../../shared/shapes";
import type { Spans } from "./raster";

/** Per prefix position, per channel: Σt, Σk, Σk², Σt·k. */
const Q = 12;

export class Model {
  readonly width: number;
  readonly height: number;
  /** Target RGB (alpha already flattened), 0..255. */
  readonly target: Float64Array;
  /** Current canvas RGB, opaque, 0..255 as floats. */
  readonly canvas: Float64Array;
  private readonly prefix: Float64Array;
  private readonly rowErr: Float64Array;
  private readonly dirty: Uint8Array;
  /** Sum of squared errors over RGB (canvas alpha is always 255, matching an opaque target). */
  total = 0;

  constructor(width: number, height: number, targetRgb: Float64Array, background: Color) {
    this.width = width;
    this.height = height;
    this.target = targetRgb;
    this.canvas = new Float64Array(width * height * 3);
    for (let i = 0; i < width * height; i++) {
      this.canvas[3 * i] = background.r;
      this.canvas[3 * i + 1] = background.g;
      this.canvas[3 * i + 2] = background.b;
    }
    this.prefix = new Float64Array(height * (width + 1) * Q);
    this.rowErr = new Float64Array(height);
    this.dirty = new Uint8Array(height);
    for (let y = 0; y < height; y++) this.sumRow(y);
    this.recomputeTotal();
  }

  /** RMSE over RGBA scaled to 0..1 (the classic tool's score); alpha contributes nothing here. */
  score(total = this.total): number {
    return Math.sqrt(Math.max(0, total) / (this.width * this.height * 4)) / 255;
  }

  /** Σt, Σk, Σk², Σt·k per channel over the last accumulated spans. */
  private readonly sums = new Float64Array(Q);

  /** Sums the covered pixels' statistics into `sums`; returns the pixel count. */
  private accumulate(spans: Spans): number {
    const P = this.prefix;
    const stride = (this.width + 1) * Q;
    const ys = spans.y;
    const x1s = spans.x1;
    const x2s = spans.x2;
    // Twelve locals rather than an array: this loop is the engine's hot path.
    let n = 0;
    let t0 = 0;
    let k0 = 0;
    let kk0 = 0;
    let tk0 = 0;
    let t1 = 0;
    let k1 = 0;
    let kk1 = 0;
    let tk1 = 0;
    let t2 = 0;
    let k2 = 0;
    let kk2 = 0;
    let tk2 = 0;
    for (let i = 0, count = spans.count; i < count; i++) {
      const row = ys[i] * stride;
      const a = row + x1s[i] * Q;
      const b = row + (x2s[i] + 1) * Q;
      n += x2s[i] - x1s[i] + 1;
      t0 += P[b] - P[a];
      k0 += P[b + 1] - P[a + 1];
      kk0 += P[b + 2] - P[a + 2];
      tk0 += P[b + 3] - P[a + 3];
      t1 += P[b + 4] - P[a + 4];
      k1 += P[b + 5] - P[a + 5];
      kk1 += P[b + 6] - P[a + 6];
      tk1 += P[b + 7] - P[a + 7];
      t2 += P[b + 8] - P[a + 8];
      k2 += P[b + 9] - P[a + 9];
      kk2 += P[b + 10] - P[a + 10];
      tk2 += P[b + 11] - P[a + 11];
    }
    const S = this.sums;
    S[0] = t0;
    S[1] = k0;
    S[2] = kk0;
    S[3] = tk0;
    S[4] = t1;
    S[5] = k1;
    S[6] = kk1;
    S[7] = tk1;
    S[8] = t2;
    S[9] = k2;
    S[10] = kk2;
    S[11] = tk2;
    return n;
  }

  /**
   * Best colour for the covered pixels at opacity alpha (1..255), written to out[0..2], and the
   * change in total squared error if the shape were drawn with it (negative = better).
   */
  energy(spans: Spans, alpha: number, out: Int32Array): number {
    const n = this.accumulate(spans);
    if (n === 0) {
      out[0] = out[1] = out[2] = 0;
      return 0;
    }
    const a = alpha / 255;
    const S = this.sums;
    let delta = 0;
    for (let ch = 0, q = 0; ch < 3; ch++, q += 4) {
      let c = Math.round((S[q] - (1 - a) * S[q + 1]) / (a * n));
      c = c < 0 ? 0 : Math.min(c, 255);
      out[ch] = c;
      delta += channelDelta(n, S[q], S[q + 1], S[q + 2], S[q + 3], a, c);
    }
    return delta;
  }

  /** The change in total squared error for drawing the spans with a given colour. */
  delta(spans: Spans, alpha: number, color: ArrayLike<number>): number {
    const n = this.accumulate(spans);
    const a = alpha / 255;
    const S = this.sums;
    let delta = 0;
    for (let ch = 0, q = 0; ch < 3; ch++, q += 4)
      delta += channelDelta(n, S[q], S[q + 1], S[q + 2], S[q + 3], a, color[ch]);
    return n === 0 ? 0 : delta;
  }

  /** Mean target colour under the spans into out[0..2]; false when they cover nothing. */
  meanTarget(spans: Spans, out: Int32Array): boolean {
    const n = this.accumulate(spans);
    if (n === 0) return false;
    for (let ch = 0; ch < 3; ch++) out[ch] = Math.round(this.sums[4 * ch] / n);
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
    let o = y * (this.width + 1) * Q;
    for (let q = 0; q < Q; q++) P[o + q] = 0;
    let err = 0;
    for (let x = 0, j = y * this.width * 3; x < this.width; x++, j += 3) {
      const n = o + Q;
      for (let ch = 0; ch < 3; ch++) {
        const tv = t[j + ch];
        const kv = c[j + ch];
        const q = 4 * ch;
        P[n + q] = P[o + q] + tv;
        P[n + q + 1] = P[o + q + 1] + kv;
        P[n + q + 2] = P[o + q + 2] + kv * kv;
        P[n + q + 3] = P[o + q + 3] + tv * kv;
        err += (tv - kv) * (tv - kv);
      }
      o = n;
    }
    this.rowErr[y] = err;
  }
}

/**
 * One channel's error change Σ[(d − a(c−k))² − d²] with d = t − k, from the span sums. The error is a
 * parabola in c with its minimum at (Σt − (1−a)Σk)/(a·n), so that value rounded and clamped is the
 * best byte colour.
 */
function channelDelta(n: number, st: number, sk: number, skk: number, stk: number, a: number, c: number): number {
  return -2 * a * (c * (st - sk) - (stk - skk)) + a * a * (n * c * c - 2 * c * sk + skk);
}

/** Flattens RGBA onto white (transparent parts of a layer show the canvas behind them) as floats. */
export function targetRgb(data: Uint8Array, width: number, height: number): Float64Array {
  const out = new Float64Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const a = data[4 * i + 3] / 255;
    for (let ch = 0; ch < 3; ch++) out[3 * i + ch] = data[4 * i + ch] * a + 255 * (1 - a);
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
