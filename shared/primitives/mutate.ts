// Random shapes and small mutations, per type, in place on the params array (see params.ts).
// Sizes follow the classic `primitive` tool: new shapes are small (≈ 32 px at a 256 px working
// size) and grow by hill climbing. Moves are normal with σ = 16 px as there, or 8 or 4 px.
import { detCos } from "./det-math";
import { T_BEZIER, T_CIRCLE, T_ELLIPSE, T_POLYGON, T_RECTANGLE, T_ROT_ELLIPSE, T_ROT_RECT, T_TRIANGLE } from "./params";
import type { Rng } from "./rng";

/** How far past the border vertices may go (lets shapes reach the edges with clean sides). */
const MARGIN = 16;
const SIGMA = 16;
const MIN_TRIANGLE_DEG = 15;
const MAX_ASPECT = 5;

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : Math.min(v, hi);
}

/** A new random shape of the given type around a point: (x, y) if given, else a random one. */
export function randomShape(
  code: number,
  p: Float64Array,
  rng: Rng,
  w: number,
  h: number,
  x = rng.float() * w,
  y = rng.float() * h,
): void {
  switch (code) {
    case T_TRIANGLE:
    case T_POLYGON: {
      const n = code === T_TRIANGLE ? 3 : 4;
      p[0] = x;
      p[1] = y;
      for (let i = 1; i < n; i++) {
        p[2 * i] = x + rng.float() * 40 - 20;
        p[2 * i + 1] = y + rng.float() * 40 - 20;
      }
      mutateShape(code, p, rng, w, h);
      return;
    }
    case T_RECTANGLE:
      p[0] = x;
      p[1] = y;
      p[2] = clamp(x + 1 + rng.float() * 32, 0, w);
      p[3] = clamp(y + 1 + rng.float() * 32, 0, h);
      return;
    case T_ROT_RECT:
      // Half sizes: the classic tool's 1..32 px full sizes.
      p[0] = x;
      p[1] = y;
      p[2] = 0.5 + rng.float() * 16;
      p[3] = 0.5 + rng.float() * 16;
      p[4] = rng.float() * 360;
      mutateShape(code, p, rng, w, h);
      return;
    case T_ELLIPSE:
    case T_ROT_ELLIPSE:
      p[0] = x;
      p[1] = y;
      p[2] = 1 + rng.float() * 32;
      p[3] = 1 + rng.float() * 32;
      p[4] = rng.float() * 360;
      return;
    case T_CIRCLE:
      p[0] = x;
      p[1] = y;
      p[2] = 1 + rng.float() * 32;
      return;
    case T_BEZIER:
      p[0] = x;
      p[1] = y;
      p[2] = x + rng.float() * 40 - 20;
      p[3] = y + rng.float() * 40 - 20;
      p[4] = p[2] + rng.float() * 40 - 20;
      p[5] = p[3] + rng.float() * 40 - 20;
      p[6] = 1 + rng.float() * 3;
      mutateShape(code, p, rng, w, h);
      return;
    default:
      throw new Error(`unknown shape code ${code}`);
  }
}

/** One small random change that leaves a valid shape. */
export function mutateShape(code: number, p: Float64Array, rng: Rng, w: number, h: number): void {
  // Moves of 16, 8 or 4 px (σ): big ones explore, small ones fine-tune a shape that is nearly right.
  const sigma = SIGMA / (1 << rng.int(3));
  const lo = -MARGIN;
  const hiX = w + MARGIN;
  const hiY = h + MARGIN;
  const maxR = Math.max(w, h);
  switch (code) {
    case T_TRIANGLE:
    case T_POLYGON: {
      const n = code === T_TRIANGLE ? 3 : 4;
      // Keep the old vertex so an invalid (sliver) triangle can be retried from the same place.
      const i = rng.int(n);
      const ox = p[2 * i];
      const oy = p[2 * i + 1];
      for (let tries = 0; tries < 100; tries++) {
        p[2 * i] = clamp(ox + rng.normal() * sigma, lo, hiX);
        p[2 * i + 1] = clamp(oy + rng.normal() * sigma, lo, hiY);
        if (code === T_POLYGON || triangleValid(p)) return;
      }
      p[2 * i] = ox;
      p[2 * i + 1] = oy;
      return;
    }
    case T_RECTANGLE: {
      const i = rng.int(2) * 2;
      p[i] = clamp(p[i] + rng.normal() * sigma, 0, w);
      p[i + 1] = clamp(p[i + 1] + rng.normal() * sigma, 0, h);
      return;
    }
    case T_ROT_RECT: {
      for (let tries = 0; tries < 100; tries++) {
        const k = rng.int(3);
        const o0 = p[2 * k];
        const o1 = p[2 * k + 1];
        if (k === 0) {
          p[0] = clamp(o0 + rng.normal() * sigma, 0, w);
          p[1] = clamp(o1 + rng.normal() * sigma, 0, h);
        } else if (k === 1) {
          p[2] = clamp(o0 + (rng.normal() * sigma) / 2, 0.5, maxR);
          p[3] = clamp(o1 + (rng.normal() * sigma) / 2, 0.5, maxR);
        } else {
          p[4] = o0 + rng.normal() * 2 * sigma;
        }
        if (aspectValid(p[2], p[3])) return;
        p[2 * k] = o0;
        p[2 * k + 1] = o1;
      }
      return;
    }
    case T_ELLIPSE:
    case T_ROT_ELLIPSE:
    case T_CIRCLE: {
      // Move, or change one radius, or (rotated) turn.
      const k = rng.int(code === T_CIRCLE ? 2 : code === T_ELLIPSE ? 3 : 4);
      if (k === 0) {
        p[0] = clamp(p[0] + rng.normal() * sigma, 0, w);
        p[1] = clamp(p[1] + rng.normal() * sigma, 0, h);
      } else if (k === 3) {
        p[4] += rng.normal() * 2 * sigma;
      } else {
        p[1 + k] = clamp(p[1 + k] + rng.normal() * sigma, 1, maxR);
      }
      return;
    }
    case T_BEZIER: {
      const k = rng.int(4);
      if (k === 3) {
        p[6] = clamp(p[6] + rng.normal(), 1, 16);
        return;
      }
      const ox = p[2 * k];
      const oy = p[2 * k + 1];
      for (let tries = 0; tries < 100; tries++) {
        p[2 * k] = clamp(ox + rng.normal() * sigma, lo, hiX);
        p[2 * k + 1] = clamp(oy + rng.normal() * sigma, lo, hiY);
        if (bezierValid(p)) return;
      }
      p[2 * k] = ox;
      p[2 * k + 1] = oy;
      return;
    }
    default:
      throw new Error(`unknown shape code ${code}`);
  }
}

/** cos²(15°): an angle under 15° has cos > cos 15°. */
const COS2_MIN = detCos((MIN_TRIANGLE_DEG * Math.PI) / 180) ** 2;

/** No slivers: every angle over 15°, as the classic tool requires. Square roots avoided (hot). */
function triangleValid(p: Float64Array): boolean {
  return (
    angleOk(p[0], p[1], p[2], p[3], p[4], p[5]) &&
    angleOk(p[2], p[3], p[4], p[5], p[0], p[1]) &&
    angleOk(p[4], p[5], p[0], p[1], p[2], p[3])
  );
}

/** The angle at (ax, ay) between the other two vertices is at least 15°. */
function angleOk(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): boolean {
  const ux = bx - ax;
  const uy = by - ay;
  const vx = cx - ax;
  const vy = cy - ay;
  const dot = ux * vx + uy * vy;
  const l2 = (ux * ux + uy * uy) * (vx * vx + vy * vy);
  if (l2 === 0) return false;
  return dot <= 0 || dot * dot < COS2_MIN * l2;
}

function aspectValid(a: number, b: number): boolean {
  return Math.max(a, b) / Math.min(a, b) <= MAX_ASPECT;
}

/** The end points are the farthest pair, so the curve does not fold back on itself. */
function bezierValid(p: Float64Array): boolean {
  const d01 = (p[0] - p[2]) ** 2 + (p[1] - p[3]) ** 2;
  const d12 = (p[2] - p[4]) ** 2 + (p[3] - p[5]) ** 2;
  const d02 = (p[0] - p[4]) ** 2 + (p[1] - p[5]) ** 2;
  return d02 > d01 && d02 > d12;
}
