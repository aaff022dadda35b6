// Rasteriser coverage against an independent per-pixel reference: a pixel is in a shape when its
// centre is. Pixels whose centres sit (almost) exactly on an edge may go either way.
import { describe, expect, it } from "vitest";
import { fromShape } from "../../shared/primitives/params";
import { Spans } from "../../shared/primitives/raster";
import { Rng } from "../../shared/primitives/rng";
import { SHAPE_TYPES, type Shape } from "../../shared/shapes";
import { shapeBounds } from "../../shared/svg";

const W = 48;
const H = 40;
const color = { r: 0, g: 0, b: 0, a: 255 };

function mask(shape: Shape): Uint8Array {
  const spans = new Spans(W, H);
  const p = new Float64Array(8);
  spans.rasterize(fromShape(shape, p), p);
  const m = new Uint8Array(W * H);
  for (let i = 0; i < spans.count; i++) {
    expect(spans.x1[i]).toBeGreaterThanOrEqual(0);
    expect(spans.x2[i]).toBeLessThan(W);
    for (let x = spans.x1[i]; x <= spans.x2[i]; x++) {
      expect(m[spans.y[i] * W + x], "pixels are covered once").toBe(0);
      m[spans.y[i] * W + x] = 1;
    }
  }
  return m;
}

/** Signed distance-ish test: > 0 inside, < 0 outside, |value| small near the boundary (in px). */
type Inside = (x: number, y: number) => number;

function rotateInto(cx: number, cy: number, angle: number, x: number, y: number): [number, number] {
  const a = (angle * Math.PI) / 180;
  const dx = x - cx;
  const dy = y - cy;
  return [dx * Math.cos(a) + dy * Math.sin(a), -dx * Math.sin(a) + dy * Math.cos(a)];
}

function polygonInside(pts: [number, number][]): Inside {
  return (x, y) => {
    // Even-odd by ray casting to the left, plus the distance to the nearest edge.
    let inside = false;
    let dist = Number.POSITIVE_INFINITY;
    for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
      const [ax, ay] = pts[i];
      const [bx, by] = pts[j];
      if (ay > y !== by > y && x < ((bx - ax) * (y - ay)) / (by - ay) + ax) inside = !inside;
      const t = Math.max(
        0,
        Math.min(1, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)),
      );
      dist = Math.min(dist, Math.hypot(x - ax - t * (bx - ax), y - ay - t * (by - ay)));
    }
    return inside ? dist : -dist;
  };
}

function reference(shape: Shape): Inside {
  switch (shape.type) {
    case "triangle":
    case "polygon":
      return polygonInside(shape.points.map((p) => [p[0], p[1]]));
    case "rectangle":
      return (x, y) => Math.min(x - shape.x1, shape.x2 - x, y - shape.y1, shape.y2 - y);
    case "rotated-rectangle":
      return (x, y) => {
        const [u, v] = rotateInto(shape.cx, shape.cy, shape.angle, x, y);
        return Math.min(shape.rx - Math.abs(u), shape.ry - Math.abs(v));
      };
    case "ellipse":
    case "rotated-ellipse":
    case "circle": {
      const rx = shape.type === "circle" ? shape.r : shape.rx;
      const ry = shape.type === "circle" ? shape.r : shape.ry;
      const angle = shape.type === "rotated-ellipse" ? shape.angle : 0;
      return (x, y) => {
        const [u, v] = rotateInto(shape.cx, shape.cy, angle, x, y);
        // Scaled so that ~1 px from the boundary reads as ~1.
        return (1 - Math.sqrt((u / rx) ** 2 + (v / ry) ** 2)) * Math.min(rx, ry);
      };
    }
    case "bezier":
      return (x, y) => {
        let d = Number.POSITIVE_INFINITY;
        for (let i = 0; i <= 400; i++) {
          const t = i / 400;
          const u = 1 - t;
          const px = u * u * shape.p0[0] + 2 * u * t * shape.c[0] + t * t * shape.p1[0];
          const py = u * u * shape.p0[1] + 2 * u * t * shape.c[1] + t * t * shape.p1[1];
          d = Math.min(d, Math.hypot(x - px, y - py));
        }
        return shape.width / 2 - d;
      };
  }
}

/** Analytic area where it is easy (for the area check). */
function area(shape: Shape): number | null {
  switch (shape.type) {
    case "triangle": {
      const [[ax, ay], [bx, by], [cx, cy]] = shape.points;
      return Math.abs((bx - ax) * (cy - ay) - (cx - ax) * (by - ay)) / 2;
    }
    case "rectangle":
      return (shape.x2 - shape.x1) * (shape.y2 - shape.y1);
    case "rotated-rectangle":
      return 4 * shape.rx * shape.ry;
    case "ellipse":
    case "rotated-ellipse":
      return Math.PI * shape.rx * shape.ry;
    case "circle":
      return Math.PI * shape.r ** 2;
    default:
      return null;
  }
}

/** Random shapes that stay inside the image, so the analytic area is the covered area. */
function randomShape(type: Shape["type"], rng: Rng): Shape {
  const x = () => 8 + rng.float() * (W - 16);
  const y = () => 8 + rng.float() * (H - 16);
  const r = () => 2 + rng.float() * 6;
  const ang = () => rng.float() * 360;
  switch (type) {
    case "triangle":
      return {
        type,
        points: [
          [x(), y()],
          [x(), y()],
          [x(), y()],
        ],
        color,
      };
    case "rectangle": {
      const [x1, x2] = [x(), x()].sort((a, b) => a - b);
      const [y1, y2] = [y(), y()].sort((a, b) => a - b);
      return { type, x1, y1, x2, y2, color };
    }
    case "rotated-rectangle":
      return { type, cx: W / 2, cy: H / 2, rx: r(), ry: r(), angle: ang(), color };
    case "ellipse":
      return { type, cx: x(), cy: y(), rx: r(), ry: r(), color };
    case "rotated-ellipse":
      return { type, cx: W / 2, cy: H / 2, rx: r(), ry: r(), angle: ang(), color };
    case "circle":
      return { type, cx: x(), cy: y(), r: r(), color };
    case "polygon":
      return {
        type,
        points: [
          [x(), y()],
          [x(), y()],
          [x(), y()],
          [x(), y()],
        ],
        color,
      };
    case "bezier":
      return { type, p0: [x(), y()], c: [x(), y()], p1: [x(), y()], width: 1 + rng.float() * 5, color };
  }
}

describe("rasterisers", () => {
  for (const type of SHAPE_TYPES) {
    it(`${type}: covers exactly the pixels whose centres are inside, and the right area`, () => {
      const rng = new Rng(42, type.length);
      // Flattened Bézier strokes may differ from the true curve by a fraction of a pixel.
      const edge = type === "bezier" ? 0.25 : 1e-6;
      for (let n = 0; n < 25; n++) {
        const shape = randomShape(type, rng);
        const got = mask(shape);
        const inside = reference(shape);
        let covered = 0;
        const wrong: string[] = [];
        for (let py = 0; py < H; py++) {
          for (let px = 0; px < W; px++) {
            const d = inside(px + 0.5, py + 0.5);
            covered += got[py * W + px];
            if (Math.abs(d) > edge && got[py * W + px] !== (d > 0 ? 1 : 0)) wrong.push(`${px},${py} d=${d}`);
          }
        }
        expect(wrong, JSON.stringify(shape)).toEqual([]);
        const a = area(shape);
        // Centre sampling: the count tracks the area up to about one pixel row along each side.
        const box = shapeBounds(shape);
        if (a !== null) expect(Math.abs(covered - a)).toBeLessThanOrEqual(box.width + box.height + 1);
        // And nothing is painted outside the shape's bounds.
        for (let py = 0; py < H; py++)
          for (let px = 0; px < W; px++)
            if (got[py * W + px]) {
              expect(px + 0.5).toBeGreaterThanOrEqual(box.x - 1e-6);
              expect(px + 0.5).toBeLessThanOrEqual(box.x + box.width + 1e-6);
              expect(py + 0.5).toBeGreaterThanOrEqual(box.y - 1e-6);
              expect(py + 0.5).toBeLessThanOrEqual(box.y + box.height + 1e-6);
            }
      }
    });
  }

  it("clips to the image and handles shapes entirely outside", () => {
    const outside = mask({ type: "circle", cx: -50, cy: -50, r: 10, color });
    expect(outside.reduce((s, v) => s + v, 0)).toBe(0);
    const huge = mask({ type: "rectangle", x1: -100, y1: -100, x2: 1000, y2: 1000, color });
    expect(huge.reduce((s, v) => s + v, 0)).toBe(W * H);
  });
});
