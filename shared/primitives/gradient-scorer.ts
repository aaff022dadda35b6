// Scoring a gradient-filled candidate from the model's running sums (model.ts): its direction,
// where its stops go, and the sums the stop colours are solved from (gradient.ts).
import { detCos, detSin } from "./det-math";
import { GradientSums, solveGradient } from "./gradient";
import type { Model } from "./model";
import type { Spans } from "./raster";

const DEG = Math.PI / 180;

/** Where each of the spans' moments sits in GradientScorer's `mo` (G, XG, YG: three channels each). */
const M_W = 0;
const M_X = 1;
const M_Y = 2;
const M_XX = 3;
const M_XY = 4;
const M_YY = 5;
const M_H = 6;
const M_G = 7;
const M_XG = 10;
const M_YG = 13;
const M_COUNT = 16;

/**
 * Where a shape's ramp runs: over [lo, hi] of its extent along the direction (padded beyond), the
 * direction being the fitted one turned by `turn` degrees. FULL_RAMP: the whole extent, as fitted.
 */
export interface Ramp {
  lo: number;
  hi: number;
  turn: number;
}
export const FULL_RAMP: Readonly<Ramp> = { lo: 0, hi: 1, turn: 0 };

export class GradientScorer {
  constructor(private readonly m: Model) {}

  /** Scratch for gradient candidates: sums, and where the covered pixel centres run along the direction. */
  private readonly gs = new GradientSums();
  private uMin = 0;
  private uLen = 0;
  /** The last given angle's cosine and sine (tests give angles). */
  private lastAngle = Number.NaN;
  private ax = 1;
  private ay = 0;
  /** The direction the ramp runs along: (fx, fy), fitted or given, turned by `turned` degrees. */
  private dx = 1;
  private dy = 0;
  private fx = 1;
  private fy = 0;
  private turned = 0;
  /** The spans the last energy() measured (rewindow() must be given the same). */
  private lastSpans: Spans | null = null;
  private lastCount = -1;
  private lastA = Number.NaN;

  /** (fx, fy) at `angle` degrees (its cosine and sine kept for the next call with the same angle). */
  private direction(angle: number): void {
    if (angle !== this.lastAngle) {
      this.lastAngle = angle;
      this.ax = detCos(angle * DEG);
      this.ay = detSin(angle * DEG);
    }
    this.fx = this.ax;
    this.fy = this.ay;
  }

  /**
   * Extent of the covered pixel centres along direction (dx, dy): u = (x+½)·dx + (y+½)·dy runs
   * from uMin to uMin + uLen. u is affine along a row, so a span's ends are its extremes.
   */
  private extent(spans: Spans, dx: number, dy: number): void {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < spans.count; i++) {
      const v = (spans.y[i] + 0.5) * dy;
      const u1 = (spans.x1[i] + 0.5) * dx + v;
      const u2 = (spans.x2[i] + 0.5) * dx + v;
      if (u1 < lo) lo = u1;
      if (u2 < lo) lo = u2;
      if (u1 > hi) hi = u1;
      if (u2 > hi) hi = u2;
    }
    this.uMin = lo;
    this.uLen = hi - lo;
  }

  /**
   * Gradient fill along the fitted direction (fitDirection), or at `angle` degrees if given (tests).
   * The stops sit at the covered pixels' extent along it, so
   * s = (u − uMin)/uLen ∈ [0, 1] needs no clamping and is affine in x and y: the s-weighted sums
   * follow from the spans' moments. Best stop colours into c0, c1 (gradient.ts) and the error
   * change they give; `a` is the opacity, 0..1.
   */
  energy(spans: Spans, a: number, c0: Int32Array, c1: Int32Array, ramp: Ramp = FULL_RAMP, angle = Number.NaN): number {
    this.moments(spans, a);
    if (!Number.isNaN(angle)) this.direction(angle);
    else this.fitDirection();
    this.turn(ramp.turn);
    this.extent(spans, this.dx, this.dy);
    this.lastSpans = spans;
    this.lastCount = spans.count;
    this.lastA = a;
    return this.sums(spans, a, c0, c1, ramp);
  }

  /**
   * energy() again for the same spans and opacity with another ramp: the fitted direction is the
   * last energy() call's, which must have been on these spans (only a turn re-measures the extent).
   */
  rewindow(spans: Spans, a: number, c0: Int32Array, c1: Int32Array, ramp: Ramp): number {
    if (spans !== this.lastSpans || spans.count !== this.lastCount || a !== this.lastA)
      throw new Error("rewindow() needs the spans and opacity of the last energy() call");
    if (ramp.turn !== this.turned) {
      this.turn(ramp.turn);
      this.extent(spans, this.dx, this.dy);
    }
    return this.sums(spans, a, c0, c1, ramp);
  }

  /** The direction = (fx, fy) turned by `deg` degrees. */
  private turn(deg: number): void {
    this.turned = deg;
    if (deg === 0) {
      this.dx = this.fx;
      this.dy = this.fy;
      return;
    }
    const c = detCos(deg * DEG);
    const s = detSin(deg * DEG);
    this.dx = this.fx * c - this.fy * s;
    this.dy = this.fx * s + this.fy * c;
  }

  /**
   * The sums and best stops for the ramp over the direction and extent already set: one path for
   * a ramp over the whole extent, one for a window (same maths, not the same last bits, so each
   * ramp is always summed the same way whichever call asks).
   */
  private sums(spans: Spans, a: number, c0: Int32Array, c1: Int32Array, ramp: Ramp): number {
    this.lo = ramp.lo;
    this.hi = ramp.hi;
    return ramp.lo !== 0 || ramp.hi !== 1 ? this.windowed(spans, a, c0, c1) : this.whole(a, c0, c1);
  }

  /**
   * The ramp over the whole extent, from the spans' moments alone: s = al·x + k0 + k1·(y − y0)
   * (x, y the pixel indices), so Σs, Σs² and Σs·G expand into the moments the direction fit takes (O(1)).
   */
  private whole(a: number, c0: Int32Array, c1: Int32Array): number {
    const L = this.uLen;
    const o = this.mo;
    // One pixel across the direction: s ≡ 0 (the solver then picks one colour).
    const thin = !(L > 1e-9);
    const al = thin ? 0 : this.dx / L;
    // the y moments are about the first row (see moments())
    const k1 = thin ? 0 : this.dy / L;
    const k0 = thin ? 0 : (0.5 * this.dx + (0.5 + this.y0) * this.dy - this.uMin) / L;
    const W = o[M_W];
    const S1 = al * o[M_X] + k0 * W + k1 * o[M_Y];
    const S2 =
      al * al * o[M_XX] +
      2 * al * (k0 * o[M_X] + k1 * o[M_XY]) +
      k0 * k0 * W +
      2 * k0 * k1 * o[M_Y] +
      k1 * k1 * o[M_YY];
    const r = (ch: number) => al * o[M_XG + ch] + k0 * o[M_G + ch] + k1 * o[M_YG + ch];
    this.gs.set(W, S1, S2, o[M_H], o[M_G], o[M_G + 1], o[M_G + 2], r(0), r(1), r(2));
    return solveGradient(this.gs, a, this.m.palette, c0, c1);
  }

  /** The ramp's window along the extent (s from lo to hi; padded beyond), as the last energy() had it. */
  private lo = 0;
  private hi = 1;
  /**
   * energy() with the ramp in a window [lo, hi] of the extent: s' = clamp((s − lo)/(hi − lo), 0, 1),
   * a sharper colour change (up to a split in two colours) where the picture has an edge. s' is
   * affine in x between the two points of a row where it reaches 0 and 1 and constant outside
   * them, so each span splits into at most three stretches, summed from the prefix sums at their
   * four ends p0 (the span's start), p1 (the ramp's), p2 (the ramp's end + 1), p3 (the span's end + 1).
   */
  private windowed(spans: Spans, a: number, c0: Int32Array, c1: Int32Array): number {
    const L = this.uLen;
    const wd = this.hi - this.lo;
    const A = L > 1e-9 ? this.dx / L / wd : 0;
    const P = this.m.prefix;
    const q = this.m.q;
    const b = this.m.base;
    const stride = (this.m.width + 1) * q;
    // G terms at a prefix position: P[at + ch] + ka·P[at + k + ch] (ka = 0 with a fixed opacity),
    // x-weighted ones at xg and xk; Σw at b − 1, Σw·x at q − 2, Σw·x² at q − 1.
    const ka = b === 5 ? 0 : a;
    const k = b === 5 ? 0 : 3;
    const xg = b === 5 ? 5 : 9;
    const xk = b === 5 ? 5 : 12;
    const iw = b - 1;
    const ix = q - 2;
    const ixx = q - 1;
    let W = 0;
    let S1 = 0;
    let S2 = 0;
    let H = 0;
    let g0 = 0;
    let g1 = 0;
    let g2 = 0;
    let r0 = 0;
    let r1 = 0;
    let r2 = 0;
    for (let i = 0; i < spans.count; i++) {
      const y = spans.y[i];
      const x1 = spans.x1[i];
      const x2 = spans.x2[i];
      const row = y * stride;
      const p0 = row + x1 * q;
      const p3 = row + (x2 + 1) * q;
      H += b === 5 ? P[p3 + 3] - P[p0 + 3] : 2 * a * (P[p3 + 6] - P[p0 + 6]) + a * a * (P[p3 + 7] - P[p0 + 7]);
      W += P[p3 + iw] - P[p0 + iw];
      g0 += P[p3] + ka * P[p3 + k] - P[p0] - ka * P[p0 + k];
      g1 += P[p3 + 1] + ka * P[p3 + k + 1] - P[p0 + 1] - ka * P[p0 + k + 1];
      g2 += P[p3 + 2] + ka * P[p3 + k + 2] - P[p0 + 2] - ka * P[p0 + k + 2];
      // s' = A·x + B on this row (before clamping).
      let B = ((L > 1e-9 ? (0.5 * this.dx + (y + 0.5) * this.dy - this.uMin) / L : 0) - this.lo) / wd;
      // Pixels up to e are clamped at one end of the ramp, from st on at the other, the ramp between.
      let e = x1 - 1;
      let st = x1;
      if (A !== 0) {
        const at0 = -B / A;
        const at1 = (1 - B) / A;
        const left = A > 0 ? at0 : at1;
        const right = A > 0 ? at1 : at0;
        e = left < x1 ? x1 - 1 : left >= x2 ? x2 : Math.floor(left);
        st = right > x2 ? x2 + 1 : right <= x1 ? x1 : Math.ceil(right);
        if (st <= e) st = e + 1;
      } else if (B >= 1) e = x2;
      else {
        // The whole span at one value, as a "ramp" of slope 0.
        st = x2 + 1;
        if (B < 0) B = 0;
      }
      // The stretch at s' = 1 (from the ramp's end for a rising s', up to its start for a falling one).
      const u = A > 0 ? row + st * q : p0;
      const v = A > 0 ? p3 : A < 0 || B >= 1 ? row + (e + 1) * q : p0;
      if (u !== v) {
        const w1 = P[v + iw] - P[u + iw];
        S1 += w1;
        S2 += w1;
        r0 += P[v] + ka * P[v + k] - P[u] - ka * P[u + k];
        r1 += P[v + 1] + ka * P[v + k + 1] - P[u + 1] - ka * P[u + k + 1];
        r2 += P[v + 2] + ka * P[v + k + 2] - P[u + 2] - ka * P[u + k + 2];
      }
      if (st > e + 1) {
        const p1 = row + (e + 1) * q;
        const p2 = row + st * q;
        const wr = P[p2 + iw] - P[p1 + iw];
        const xr = P[p2 + ix] - P[p1 + ix];
        S1 += A * xr + B * wr;
        S2 += A * A * (P[p2 + ixx] - P[p1 + ixx]) + 2 * A * B * xr + B * B * wr;
        r0 +=
          A * (P[p2 + xg] + ka * P[p2 + xk] - P[p1 + xg] - ka * P[p1 + xk]) +
          B * (P[p2] + ka * P[p2 + k] - P[p1] - ka * P[p1 + k]);
        r1 +=
          A * (P[p2 + xg + 1] + ka * P[p2 + xk + 1] - P[p1 + xg + 1] - ka * P[p1 + xk + 1]) +
          B * (P[p2 + 1] + ka * P[p2 + k + 1] - P[p1 + 1] - ka * P[p1 + k + 1]);
        r2 +=
          A * (P[p2 + xg + 2] + ka * P[p2 + xk + 2] - P[p1 + xg + 2] - ka * P[p1 + xk + 2]) +
          B * (P[p2 + 2] + ka * P[p2 + k + 2] - P[p1 + 2] - ka * P[p1 + k + 2]);
      }
    }
    this.gs.set(W, S1, S2, H, g0, g1, g2, r0, r1, r2);
    return solveGradient(this.gs, a, this.m.palette, c0, c1);
  }

  /**
   * The spans' moments into `mo` (x, y the pixel indices; G the G-terms, gradient.ts): Σw, Σw·x,
   * Σw·y, Σw·x², Σw·x·y, Σw·y², H, and per channel ΣG, Σx·G, Σy·G — one pass over the spans'
   * prefix sums, from which the direction fit and the whole-extent ramp follow in O(1). y is
   * taken from the first span's row (y0), so that a thin shape far down a tall canvas does not
   * lose its ramp's sums to cancellation (x is as the prefix columns have it, as before).
   */
  private moments(spans: Spans, a: number): void {
    const P = this.m.prefix;
    const q = this.m.q;
    const stride = (this.m.width + 1) * q;
    // Fixed opacity: the columns are [G0 G1 G2 H W | x·G0 x·G1 x·G2 x x²]; any opacity:
    // [D0 D1 D2 K0 K1 K2 DK KK W | x·D0 x·D1 x·D2 x·K0 x·K1 x·K2 x x²] with G = D + a·K,
    // H = 2a·DK + a²·KK: the D and K sums are kept apart and combined at the end.
    const fixed = this.m.base === 5;
    const iw = this.m.base - 1;
    const y0 = spans.count > 0 ? spans.y[0] : 0;
    this.y0 = y0;
    const xd = fixed ? 5 : 9;
    let W = 0;
    let X = 0;
    let Y = 0;
    let XX = 0;
    let XY = 0;
    let YY = 0;
    let H = 0;
    let HK = 0;
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let xd0 = 0;
    let xd1 = 0;
    let xd2 = 0;
    let yd0 = 0;
    let yd1 = 0;
    let yd2 = 0;
    let e0 = 0;
    let e1 = 0;
    let e2 = 0;
    let xe0 = 0;
    let xe1 = 0;
    let xe2 = 0;
    let ye0 = 0;
    let ye1 = 0;
    let ye2 = 0;
    for (let i = 0; i < spans.count; i++) {
      const row = spans.y[i];
      const y = row - y0;
      const lo = row * stride + spans.x1[i] * q;
      const hi = row * stride + (spans.x2[i] + 1) * q;
      const w = P[hi + iw] - P[lo + iw];
      const x = P[hi + q - 2] - P[lo + q - 2];
      W += w;
      X += x;
      Y += y * w;
      XX += P[hi + q - 1] - P[lo + q - 1];
      XY += y * x;
      YY += y * y * w;
      const g0 = P[hi] - P[lo];
      const g1 = P[hi + 1] - P[lo + 1];
      const g2 = P[hi + 2] - P[lo + 2];
      d0 += g0;
      d1 += g1;
      d2 += g2;
      yd0 += y * g0;
      yd1 += y * g1;
      yd2 += y * g2;
      xd0 += P[hi + xd] - P[lo + xd];
      xd1 += P[hi + xd + 1] - P[lo + xd + 1];
      xd2 += P[hi + xd + 2] - P[lo + xd + 2];
      if (fixed) H += P[hi + 3] - P[lo + 3];
      else {
        H += P[hi + 6] - P[lo + 6];
        HK += P[hi + 7] - P[lo + 7];
        const k0 = P[hi + 3] - P[lo + 3];
        const k1 = P[hi + 4] - P[lo + 4];
        const k2 = P[hi + 5] - P[lo + 5];
        e0 += k0;
        e1 += k1;
        e2 += k2;
        ye0 += y * k0;
        ye1 += y * k1;
        ye2 += y * k2;
        xe0 += P[hi + 12] - P[lo + 12];
        xe1 += P[hi + 13] - P[lo + 13];
        xe2 += P[hi + 14] - P[lo + 14];
      }
    }
    const o = this.mo;
    o[M_W] = W;
    o[M_X] = X;
    o[M_Y] = Y;
    o[M_XX] = XX;
    o[M_XY] = XY;
    o[M_YY] = YY;
    // (with a fixed opacity the K sums stay 0)
    o[M_H] = fixed ? H : 2 * a * H + a * a * HK;
    o[M_G] = d0 + a * e0;
    o[M_G + 1] = d1 + a * e1;
    o[M_G + 2] = d2 + a * e2;
    o[M_XG] = xd0 + a * xe0;
    o[M_XG + 1] = xd1 + a * xe1;
    o[M_XG + 2] = xd2 + a * xe2;
    o[M_YG] = yd0 + a * ye0;
    o[M_YG + 1] = yd1 + a * ye1;
    o[M_YG + 2] = yd2 + a * ye2;
  }

  /** The spans' moments (see moments()), as the last energy() measured them, y from row y0. */
  private readonly mo = new Float64Array(M_COUNT);
  private y0 = 0;

  /**
   * The direction the colour changes most under the spans, from their moments: per channel the
   * least-squares plane r ≈ c + gₓ·x + g_y·y (r the G term), then the principal axis of Σ g·gᵀ
   * over the channels (a two-stop gradient changes every channel along one direction): a closed
   * form, like the colours, instead of one more parameter to climb (as fast, and a little better:
   * see README).
   */
  private fitDirection(): void {
    const o = this.mo;
    const W = o[M_W];
    const X = o[M_X];
    const Y = o[M_Y];
    this.fx = 1;
    this.fy = 0;
    if (!(W > 0)) return;
    // Centred second moments of position, and of position with each channel.
    const cxx = o[M_XX] - (X * X) / W;
    const cyy = o[M_YY] - (Y * Y) / W;
    const cxy = o[M_XY] - (X * Y) / W;
    const det = cxx * cyy - cxy * cxy;
    let mxx = 0;
    let mxy = 0;
    let myy = 0;
    for (let ch = 0; ch < 3; ch++) {
      const cxr = o[M_XG + ch] - (X * o[M_G + ch]) / W;
      const cyr = o[M_YG + ch] - (Y * o[M_G + ch]) / W;
      // The plane's slope (a thin shape: its covariance with position, without the inverse).
      const gx = det > 1e-9 * W * W ? (cyy * cxr - cxy * cyr) / det : cxr;
      const gy = det > 1e-9 * W * W ? (cxx * cyr - cxy * cxr) / det : cyr;
      mxx += gx * gx;
      mxy += gx * gy;
      myy += gy * gy;
    }
    // Principal eigenvector of [[mxx mxy] [mxy myy]] (sqrt is exact in IEEE: same bits everywhere).
    const half = (mxx - myy) / 2;
    const lambda = (mxx + myy) / 2 + Math.sqrt(half * half + mxy * mxy);
    let vx = mxy;
    let vy = lambda - mxx;
    if (vx * vx + vy * vy < 1e-24 * (lambda * lambda + 1e-300)) {
      vx = lambda - myy;
      vy = mxy;
    }
    const n = Math.sqrt(vx * vx + vy * vy);
    if (n > 0) {
      this.fx = vx / n;
      this.fy = vy / n;
    }
  }

  /**
   * The stop points [x1, y1, x2, y2] of a gradient over the spans (working pixels): the ends of
   * the covered extent along the direction (the one the last energy() fitted on these spans,
   * or `angle`), on the line through the covered box's centre, narrowed to the last energy()'s window.
   */
  stops(spans: Spans, out: Float64Array, angle = Number.NaN): void {
    if (!Number.isNaN(angle)) {
      this.direction(angle);
      this.turn(this.turned);
    }
    const dx = this.dx;
    const dy = this.dy;
    this.extent(spans, dx, dy);
    let x0 = Number.POSITIVE_INFINITY;
    let x1 = Number.NEGATIVE_INFINITY;
    let y0 = Number.POSITIVE_INFINITY;
    let y1 = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < spans.count; i++) {
      if (spans.x1[i] < x0) x0 = spans.x1[i];
      if (spans.x2[i] > x1) x1 = spans.x2[i];
      if (spans.y[i] < y0) y0 = spans.y[i];
      if (spans.y[i] > y1) y1 = spans.y[i];
    }
    const mx = (x0 + x1 + 1) / 2;
    const my = (y0 + y1 + 1) / 2;
    const um = mx * dx + my * dy;
    // One pixel across: any direction of length 1 (s is 0 over the covered centre anyway).
    const len = this.uLen > 1e-9 ? this.uLen : 1;
    const u0 = this.uMin - um + this.lo * len;
    out[0] = mx + u0 * dx;
    out[1] = my + u0 * dy;
    out[2] = out[0] + (this.hi - this.lo) * len * dx;
    out[3] = out[1] + (this.hi - this.lo) * len * dy;
  }
}
