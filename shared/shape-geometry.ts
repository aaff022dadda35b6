// Pure geometry from the engine's shapes (working-image pixels) to what a Figma node needs
// (node-local size, affine transform, vector path data, paint). No Figma API here, so it is
// unit-testable and the UI's live preview can share the colour maths.
import type { Color, Shape } from "./shapes";
import { quadBounds } from "./svg";

export { quadBounds };

/** Figma rejects sizes below 0.01 (resize throws); degenerate shapes get this instead. */
export const MIN_SIZE = 0.01;

export type Scale = { sx: number; sy: number };
/** Affine transform in Figma's layout: [[a, c, tx], [b, d, ty]] maps node-local to parent space. */
export type Transform = [[number, number, number], [number, number, number]];
export type Rgb = { r: number; g: number; b: number };
export type Paint = { color: Rgb; opacity: number };
/**
 * A two-stop linear gradient as Figma's GradientPaint has it: `transform` maps the node's unit box
 * (0..1 across its width and height) to gradient space, where the colour runs from stops[0] at
 * (0, 0.5) to stops[1] at (1, 0.5) — so the identity is left to right.
 */
export type GradientFill = { gradient: Transform; stops: [Rgb, Rgb]; opacity: number };
export type Fill = Paint | GradientFill;
export const isGradient = (f: Fill): f is GradientFill => "gradient" in f;

export type NodeSpec =
  | { kind: "rectangle" | "ellipse"; width: number; height: number; transform: Transform; paint: Fill }
  | {
      kind: "vector";
      /** Node position; `path` is relative to it and starts at the bounds' top-left. */
      x: number;
      y: number;
      path: string;
      /** Filled shapes close their path; strokes (béziers) have no fill. */
      fill: Fill | null;
      stroke: { paint: Fill; weight: number } | null;
    };

export function scaleBetween(work: { width: number; height: number }, target: { width: number; height: number }) {
  if (!(work.width > 0 && work.height > 0 && target.width > 0 && target.height > 0)) {
    throw new Error(`cannot scale ${work.width}×${work.height} to ${target.width}×${target.height}`);
  }
  return { sx: target.width / work.width, sy: target.height / work.height };
}

/** Colour 0..255 with `a` as opacity → Figma's 0..1 paint. */
export function toPaint(c: Color): Paint {
  return { color: { r: c.r / 255, g: c.g / 255, b: c.b / 255 }, opacity: c.a / 255 };
}

const round = (n: number) => Math.round(n * 1000) / 1000;
const fmt = (n: number) => String(round(n) + 0); // +0 turns -0 into 0

export function translate(x: number, y: number): Transform {
  return [
    [1, 0, x],
    [0, 1, y],
  ];
}

/**
 * A `width`×`height` node rotated by `degrees` (clockwise on screen, y down) about its centre,
 * with that centre at (cx, cy).
 */
export function rotatedAbout(cx: number, cy: number, width: number, height: number, degrees: number): Transform {
  const t = (degrees * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  // local centre (w/2, h/2) must land on (cx, cy)
  const tx = cx - (cos * width) / 2 + (sin * height) / 2;
  const ty = cy - (sin * width) / 2 - (cos * height) / 2;
  return [
    [cos, -sin, tx],
    [sin, cos, ty],
  ];
}

export function applyTransform(m: Transform, x: number, y: number): [number, number] {
  return [m[0][0] * x + m[0][1] * y + m[0][2], m[1][0] * x + m[1][1] * y + m[1][2]];
}

type Pt = [number, number];

/** A point in the parent's coordinates, in those of a frame that maps to the parent by `m` (m's inverse). */
export function toLocal(m: Transform, x: number, y: number): [number, number] {
  const [[a, c, tx], [b, d, ty]] = m;
  const det = a * d - b * c;
  const dx = x - tx;
  const dy = y - ty;
  return [(d * dx - c * dy) / det, (a * dy - b * dx) / det];
}

/**
 * The shape's paint on a node of size w×h whose local frame maps to the parent by `frame`: flat,
 * or its gradient with the stops (working pixels, scaled by s) carried into the node's unit box.
 */
function fillOf(shape: Shape, s: Scale, frame: Transform, w: number, h: number): Fill {
  const paint = toPaint(shape.color);
  const g = shape.gradient;
  if (!g) return paint;
  const [x0, y0] = toLocal(frame, g.x1 * s.sx, g.y1 * s.sy);
  const [x1, y1] = toLocal(frame, g.x2 * s.sx, g.y2 * s.sy);
  const dx = x1 - x0;
  const dy = y1 - y0;
  const k = 1 / (dx * dx + dy * dy || 1);
  // Gradient x = (p − p0)·d/|d|², y = 0.5 + (p − p0)·d⊥/|d|², with p = (u·w, v·h) in the unit box.
  const gradient: Transform = [
    [w * dx * k, h * dy * k, -(x0 * dx + y0 * dy) * k],
    [-w * dy * k, h * dx * k, 0.5 - (-x0 * dy + y0 * dx) * k],
  ];
  const to = { r: g.to.r / 255, g: g.to.g / 255, b: g.to.b / 255 };
  return { gradient, stops: [paint.color, to], opacity: paint.opacity };
}

/** Closed polygon → node position + path relative to its bounds' top-left. */
function polygonSpec(shape: Shape & { points: readonly Pt[] }, s: Scale): NodeSpec {
  const pts = shape.points.map(([x, y]) => [x * s.sx, y * s.sy] as Pt);
  const x = Math.min(...pts.map((p) => p[0]));
  const y = Math.min(...pts.map((p) => p[1]));
  const w = Math.max(MIN_SIZE, Math.max(...pts.map((p) => p[0])) - x);
  const h = Math.max(MIN_SIZE, Math.max(...pts.map((p) => p[1])) - y);
  const path = pts.map(([px, py], i) => `${i === 0 ? "M" : "L"} ${fmt(px - x)} ${fmt(py - y)}`).join(" ") + " Z";
  return { kind: "vector", x, y, path, fill: fillOf(shape, s, translate(x, y), w, h), stroke: null };
}

/**
 * One shape → one node description, scaled from working pixels by `s`.
 * Rotated shapes need a uniform scale to stay rectangles/ellipses; the geometric mean of sx and sy
 * is used for their size (sx ≈ sy anyway: the source is exported with its aspect ratio).
 */
export function shapeToNode(shape: Shape, s: Scale): NodeSpec {
  const su = Math.sqrt(s.sx * s.sy);
  const size = (n: number) => Math.max(MIN_SIZE, n);
  switch (shape.type) {
    case "rectangle": {
      const x = Math.min(shape.x1, shape.x2) * s.sx;
      const y = Math.min(shape.y1, shape.y2) * s.sy;
      const width = size(Math.abs(shape.x2 - shape.x1) * s.sx);
      const height = size(Math.abs(shape.y2 - shape.y1) * s.sy);
      const transform = translate(x, y);
      return { kind: "rectangle", width, height, transform, paint: fillOf(shape, s, transform, width, height) };
    }
    case "ellipse":
    case "circle": {
      const rx = shape.type === "circle" ? shape.r : shape.rx;
      const ry = shape.type === "circle" ? shape.r : shape.ry;
      const width = size(2 * rx * s.sx);
      const height = size(2 * ry * s.sy);
      const transform = translate(shape.cx * s.sx - width / 2, shape.cy * s.sy - height / 2);
      return { kind: "ellipse", width, height, transform, paint: fillOf(shape, s, transform, width, height) };
    }
    case "rotated-rectangle":
    case "rotated-ellipse": {
      const width = size(2 * shape.rx * su);
      const height = size(2 * shape.ry * su);
      const transform = rotatedAbout(shape.cx * s.sx, shape.cy * s.sy, width, height, shape.angle);
      const kind = shape.type === "rotated-rectangle" ? "rectangle" : "ellipse";
      return { kind, width, height, transform, paint: fillOf(shape, s, transform, width, height) };
    }
    case "triangle":
    case "polygon":
      return polygonSpec(shape, s);
    case "bezier": {
      const p0: Pt = [shape.p0[0] * s.sx, shape.p0[1] * s.sy];
      const c: Pt = [shape.c[0] * s.sx, shape.c[1] * s.sy];
      const p1: Pt = [shape.p1[0] * s.sx, shape.p1[1] * s.sy];
      const b = quadBounds(p0, c, p1);
      const rel = (p: Pt) => `${fmt(p[0] - b.minX)} ${fmt(p[1] - b.minY)}`;
      return {
        kind: "vector",
        x: b.minX,
        y: b.minY,
        path: `M ${rel(p0)} Q ${rel(c)} ${rel(p1)}`,
        fill: null,
        stroke: {
          // The node's box is the curve's (its stroke reaches beyond it).
          paint: fillOf(
            shape,
            s,
            translate(b.minX, b.minY),
            Math.max(MIN_SIZE, b.maxX - b.minX),
            Math.max(MIN_SIZE, b.maxY - b.minY),
          ),
          weight: Math.max(MIN_SIZE, shape.width * su),
        },
      };
    }
  }
}

const LABELS: Record<Shape["type"], string> = {
  triangle: "Triangle",
  rectangle: "Rectangle",
  "rotated-rectangle": "Rotated rectangle",
  ellipse: "Ellipse",
  "rotated-ellipse": "Rotated ellipse",
  circle: "Circle",
  polygon: "Polygon",
  bezier: "Curve",
};

/** "Triangle 12" — numbered from 1 in drawing order. */
export const shapeName = (shape: Shape, index: number) => `${LABELS[shape.type]} ${index + 1}`;

/** "Primitives — Photo (100 triangles)"; mixed results say "shapes". */
export function primitivesFrameName(sourceName: string, shapes: readonly Shape[]): string {
  const types = new Set(shapes.map((sh) => sh.type));
  const n = shapes.length;
  let noun = "shapes";
  if (types.size === 1) {
    const label = LABELS[shapes[0].type].toLowerCase();
    noun = label === "curve" ? "curves" : `${label}s`;
  }
  return `Primitives — ${sourceName} (${n} ${n === 1 ? noun.replace(/s$/, "") : noun})`;
}
