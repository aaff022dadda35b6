// Scanline rasterisers: each shape becomes a list of horizontal pixel spans, clipped to the image.
// A pixel belongs to a shape when its centre (x + 0.5, y + 0.5) lies inside it, which is what
// an SVG renderer covers at ≥ 50 % and so keeps the engine's canvas close to the exported SVG.
// Everything writes into preallocated Int32Arrays: no allocation per shape.
import { detCos, detSin } from "./det-math";
import { T_BEZIER, T_CIRCLE, T_ELLIPSE, T_POLYGON, T_RECTANGLE, T_ROT_ELLIPSE, T_ROT_RECT, T_TRIANGLE } from "./params";

const DEG = Math.PI / 180;
/** Segments a stroked Bézier is flattened into (at most). */
const MAX_SEGMENTS = 16;
const SEG = 5;
/** Rectangle corners (±1, ±1) in order around it. */
const CORNER_U = [-1, 1, 1, -1];
const CORNER_V = [-1, -1, 1, 1];

export class Spans {
  readonly y: Int32Array;
  readonly x1: Int32Array;
  readonly x2: Int32Array;
  count = 0;
  // Scratch for polygon corners, crossings and per-row intervals.
  private readonly pts = new Float64Array(2 * (MAX_SEGMENTS + 1));
  private readonly xs = new Float64Array(2 * MAX_SEGMENTS + 2);
  /** Per Bézier segment: min y, max y (stroke included), length, unit direction x, y. */
  private readonly seg = new Float64Array(SEG * MAX_SEGMENTS);

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    // A row holds at most one span per Bézier segment (disjoint intervals), two for a quad.
    const capacity = height * MAX_SEGMENTS;
    this.y = new Int32Array(capacity);
    this.x1 = new Int32Array(capacity);
    this.x2 = new Int32Array(capacity);
  }

  /** Pixel count covered. */
  area(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) n += this.x2[i] - this.x1[i] + 1;
    return n;
  }

  /** Adds the pixels whose centres lie in [lo, hi] on row y (clipped). */
  private push(y: number, lo: number, hi: number): void {
    let a = Math.ceil(lo - 0.5);
    let b = Math.floor(hi - 0.5);
    if (a < 0) a = 0;
    if (b > this.width - 1) b = this.width - 1;
    if (a > b) return;
    const i = this.count++;
    this.y[i] = y;
    this.x1[i] = a;
    this.x2[i] = b;
  }

  /** Rasterises a shape given as a type code and its parameters (see params.ts). */
  rasterize(code: number, p: ArrayLike<number>): void {
    this.count = 0;
    switch (code) {
      case T_TRIANGLE:
        this.triangle(p[0], p[1], p[2], p[3], p[4], p[5]);
        return;
      case T_POLYGON:
        for (let i = 0; i < 8; i++) this.pts[i] = p[i];
        this.polygon(4);
        return;
      case T_RECTANGLE:
        this.rectangle(p[0], p[1], p[2], p[3]);
        return;
      case T_ROT_RECT:
        this.rotatedRectangle(p[0], p[1], p[2], p[3], p[4]);
        return;
      case T_ELLIPSE:
        this.ellipse(p[0], p[1], p[2], p[3], 0);
        return;
      case T_ROT_ELLIPSE:
        this.ellipse(p[0], p[1], p[2], p[3], p[4]);
        return;
      case T_CIRCLE:
        this.ellipse(p[0], p[1], p[2], p[2], 0);
        return;
      case T_BEZIER:
        this.bezier(p);
        return;
      default:
        throw new Error(`unknown shape code ${code}`);
    }
  }

  /**
   * The hot case, specialised: vertices sorted by y, edges walked incrementally. Same coverage
   * rule as polygon(): centres with y in [top, bottom) and x in [left edge, right edge).
   */
  private triangle(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): void {
    let t: number;
    if (ay > by) {
      t = ax;
      ax = bx;
      bx = t;
      t = ay;
      ay = by;
      by = t;
    }
    if (by > cy) {
      t = bx;
      bx = cx;
      cx = t;
      t = by;
      by = cy;
      cy = t;
    }
    if (ay > by) {
      t = ax;
      ax = bx;
      bx = t;
      t = ay;
      ay = by;
      by = t;
    }
    if (cy === ay) return;
    const y0 = Math.max(0, Math.ceil(ay - 0.5));
    const y1 = Math.min(this.height - 1, Math.ceil(cy - 0.5) - 1);
    const sAC = (cx - ax) / (cy - ay);
    const sAB = by > ay ? (bx - ax) / (by - ay) : 0;
    const sBC = cy > by ? (cx - bx) / (cy - by) : 0;
    const maxX = this.width - 1;
    const ys = this.y;
    const x1s = this.x1;
    const x2s = this.x2;
    let n = this.count;
    for (let y = y0; y <= y1; y++) {
      const yc = y + 0.5;
      const xl = ax + (yc - ay) * sAC;
      const xs = yc < by ? ax + (yc - ay) * sAB : bx + (yc - by) * sBC;
      const lo = Math.min(xl, xs);
      const hi = Math.max(xl, xs);
      let a = Math.ceil(lo - 0.5);
      let b = Math.ceil(hi - 0.5) - 1;
      if (a < 0) a = 0;
      if (b > maxX) b = maxX;
      if (a > b) continue;
      ys[n] = y;
      x1s[n] = a;
      x2s[n] = b;
      n++;
    }
    this.count = n;
  }

  /** Even-odd fill of the n corners in `pts` (centres on an edge follow the half-open rule). */
  private polygon(n: number): void {
    const pts = this.pts;
    const xs = this.xs;
    let minY = pts[1];
    let maxY = pts[1];
    for (let i = 1; i < n; i++) {
      const y = pts[2 * i + 1];
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    const y0 = Math.max(0, Math.ceil(minY - 0.5));
    const y1 = Math.min(this.height - 1, Math.ceil(maxY - 0.5) - 1);
    for (let y = y0; y <= y1; y++) {
      const yc = y + 0.5;
      let k = 0;
      for (let i = 0, j = n - 1; i < n; j = i++) {
        const ay = pts[2 * i + 1];
        const by = pts[2 * j + 1];
        if (ay <= yc !== by <= yc) {
          const ax = pts[2 * i];
          const x = ax + ((yc - ay) * (pts[2 * j] - ax)) / (by - ay);
          // Insertion sort: at most 4 crossings.
          let m = k++;
          while (m > 0 && xs[m - 1] > x) {
            xs[m] = xs[m - 1];
            m--;
          }
          xs[m] = x;
        }
      }
      // Half-open [a, b): the right edge's centre belongs to the next shape, like the rows.
      for (let m = 0; m + 1 < k; m += 2) this.push(y, xs[m], xs[m + 1] - 1e-9);
    }
  }

  private rectangle(ax: number, ay: number, bx: number, by: number): void {
    const y0 = Math.max(0, Math.ceil(Math.min(ay, by) - 0.5));
    const y1 = Math.min(this.height - 1, Math.ceil(Math.max(ay, by) - 0.5) - 1);
    const lo = Math.min(ax, bx);
    const hi = Math.max(ax, bx) - 1e-9;
    for (let y = y0; y <= y1; y++) this.push(y, lo, hi);
  }

  private rotatedRectangle(cx: number, cy: number, rx: number, ry: number, angle: number): void {
    const c = detCos(angle * DEG);
    const s = detSin(angle * DEG);
    const pts = this.pts;
    for (let i = 0; i < 4; i++) {
      const u = CORNER_U[i] * rx;
      const v = CORNER_V[i] * ry;
      pts[2 * i] = cx + u * c - v * s;
      pts[2 * i + 1] = cy + u * s + v * c;
    }
    this.polygon(4);
  }

  /** Ellipse rotated clockwise by `angle` degrees (y down), as SVG's rotate() does. */
  private ellipse(cx: number, cy: number, rx: number, ry: number, angle: number): void {
    if (!(rx > 0 && ry > 0)) return;
    const c = detCos(angle * DEG);
    const s = detSin(angle * DEG);
    const irx = 1 / (rx * rx);
    const iry = 1 / (ry * ry);
    // Inside when A·X² + B·X·Y + C·Y² ≤ 1 with (X, Y) relative to the centre.
    const A = c * c * irx + s * s * iry;
    const B = 2 * c * s * (irx - iry);
    const C = s * s * irx + c * c * iry;
    const half = Math.sqrt(rx * rx * s * s + ry * ry * c * c);
    const y0 = Math.max(0, Math.ceil(cy - half - 0.5));
    const y1 = Math.min(this.height - 1, Math.floor(cy + half - 0.5));
    for (let y = y0; y <= y1; y++) {
      const Y = y + 0.5 - cy;
      const disc = B * B * Y * Y - 4 * A * (C * Y * Y - 1);
      if (disc < 0) continue;
      const r = Math.sqrt(disc);
      this.push(y, cx + (-B * Y - r) / (2 * A), cx + (-B * Y + r) / (2 * A));
    }
  }

  /** Quadratic Bézier stroked with round caps: the union of capsules around its flattened segments. */
  private bezier(p: ArrayLike<number>): void {
    const r = p[6] / 2;
    if (!(r > 0)) return;
    const pts = this.pts;
    const xs = this.xs;
    const seg = this.seg;
    const len = Math.sqrt((p[2] - p[0]) ** 2 + (p[3] - p[1]) ** 2) + Math.sqrt((p[4] - p[2]) ** 2 + (p[5] - p[3]) ** 2);
    const n = Math.max(1, Math.min(MAX_SEGMENTS, Math.ceil(len / 6)));
    for (let i = 0; i <= n; i++) {
      const t = i / n;
      const u = 1 - t;
      pts[2 * i] = u * u * p[0] + 2 * u * t * p[2] + t * t * p[4];
      pts[2 * i + 1] = u * u * p[1] + 2 * u * t * p[3] + t * t * p[5];
    }
    // Per segment, once: its rows and its unit direction (not per row: this shape is costly).
    let minY = Number.POSITIVE_INFINITY;
    let maxY = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const ay = pts[2 * i + 1];
      const by = pts[2 * i + 3];
      const dx = pts[2 * i + 2] - pts[2 * i];
      const dy = by - ay;
      const l = Math.sqrt(dx * dx + dy * dy);
      const o = SEG * i;
      seg[o] = Math.min(ay, by) - r;
      seg[o + 1] = Math.max(ay, by) + r;
      seg[o + 2] = l;
      seg[o + 3] = l > 0 ? dx / l : 0;
      seg[o + 4] = l > 0 ? dy / l : 0;
      if (seg[o] < minY) minY = seg[o];
      if (seg[o + 1] > maxY) maxY = seg[o + 1];
    }
    const y0 = Math.max(0, Math.ceil(minY - 0.5));
    const y1 = Math.min(this.height - 1, Math.floor(maxY - 0.5));
    for (let y = y0; y <= y1; y++) {
      const yc = y + 0.5;
      // Collect one interval per nearby segment, sorted by start, then merge overlaps.
      let k = 0;
      for (let i = 0; i < n; i++) {
        const o = SEG * i;
        if (yc < seg[o] || yc > seg[o + 1]) continue;
        const hit = capsuleRow(
          pts[2 * i],
          pts[2 * i + 1],
          pts[2 * i + 2],
          pts[2 * i + 3],
          seg[o + 2],
          seg[o + 3],
          seg[o + 4],
          r,
          yc,
          xs,
          2 * k,
        );
        if (!hit) continue;
        let m = k++;
        const lo = xs[2 * m];
        const hi = xs[2 * m + 1];
        while (m > 0 && xs[2 * m - 2] > lo) {
          xs[2 * m] = xs[2 * m - 2];
          xs[2 * m + 1] = xs[2 * m - 1];
          m--;
        }
        xs[2 * m] = lo;
        xs[2 * m + 1] = hi;
      }
      let i = 0;
      while (i < k) {
        const lo = xs[2 * i];
        let hi = xs[2 * i + 1];
        i++;
        // Only overlapping intervals merge: a gap may hold a pixel centre that is not covered.
        while (i < k && xs[2 * i] <= hi) {
          if (xs[2 * i + 1] > hi) hi = xs[2 * i + 1];
          i++;
        }
        this.push(y, lo, hi);
      }
    }
  }
}

/**
 * Where the line y = yc crosses the capsule (points within r of segment A–B): writes [lo, hi] at
 * out[o], out[o+1] and returns true, or false when it misses. (len, ux, uy): the segment's length
 * and unit direction. The capsule is convex, so the answer
 * is the hull of the row's cuts through the two end discs and the body rectangle.
 */
function capsuleRow(
  ax: number,
  ay: number,
  bx: number,
  by: number,
  len: number,
  ux: number,
  uy: number,
  r: number,
  yc: number,
  out: Float64Array,
  o: number,
): boolean {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let d = yc - ay;
  if (d * d <= r * r) {
    const h = Math.sqrt(r * r - d * d);
    lo = ax - h;
    hi = ax + h;
  }
  d = yc - by;
  if (d * d <= r * r) {
    const h = Math.sqrt(r * r - d * d);
    if (bx - h < lo) lo = bx - h;
    if (bx + h > hi) hi = bx + h;
  }
  if (len > 0) {
    const dy = yc - ay;
    // Along the segment: 0 ≤ (x−ax)·ux + dy·uy ≤ len; across: |(x−ax)·uy − dy·ux| ≤ r.
    // Each constraint is min ≤ coef·X + c0 ≤ max with X = x − ax; intersect their X ranges.
    let bl = Number.NEGATIVE_INFINITY;
    let bh = Number.POSITIVE_INFINITY;
    for (let k = 0; k < 2; k++) {
      const coef = k === 0 ? ux : uy;
      const c0 = k === 0 ? dy * uy : -dy * ux;
      const min = k === 0 ? 0 : -r;
      const max = k === 0 ? len : r;
      if (Math.abs(coef) < 1e-12) {
        if (c0 < min || c0 > max) bh = Number.NEGATIVE_INFINITY;
        continue;
      }
      const a = (min - c0) / coef;
      const b = (max - c0) / coef;
      const s = Math.min(a, b);
      const t = Math.max(a, b);
      if (s > bl) bl = s;
      if (t < bh) bh = t;
    }
    if (bl <= bh) {
      if (ax + bl < lo) lo = ax + bl;
      if (ax + bh > hi) hi = ax + bh;
    }
  }
  if (lo > hi) return false;
  out[o] = lo;
  out[o + 1] = hi;
  return true;
}
