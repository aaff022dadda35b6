// Pure geometry for the shape model: SVG serialisation, path data and bounds. Used by the
// companion (`.svg` output) and the plugin (bounds; path data in the M/L/Q/C/Z subset that
// Figma's vectorPaths accept). Coordinates are working-image pixels times `scale`.
import type { Color, Shape, ShapeList } from "./shapes";

export interface Bounds {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Rounds to 2 decimals for compact, stable output ("12.5", not "12.500000001"). */
export function fmt(v: number): string {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? "0" : String(r);
}

export function colorHex(c: { r: number; g: number; b: number; a?: number }): string {
  return `#${[c.r, c.g, c.b].map((v) => v.toString(16).padStart(2, "0")).join("")}`;
}

/** Opacity 0..1 of a shape colour. */
export function colorOpacity(c: Color): number {
  return c.a / 255;
}

const rad = (deg: number) => (deg * Math.PI) / 180;

/** Maps a point of a shape centred at (cx, cy) and rotated by `angle` degrees (clockwise, y down). */
function rotate(cx: number, cy: number, angle: number, u: number, v: number): [number, number] {
  const c = Math.cos(rad(angle));
  const s = Math.sin(rad(angle));
  return [cx + u * c - v * s, cy + u * s + v * c];
}

/** Corner points of the polygonal shapes, in drawing order; null for curved shapes. */
export function shapeCorners(shape: Shape): [number, number][] | null {
  switch (shape.type) {
    case "triangle":
    case "polygon":
      return shape.points.map((p) => [p[0], p[1]]);
    case "rectangle":
      return [
        [shape.x1, shape.y1],
        [shape.x2, shape.y1],
        [shape.x2, shape.y2],
        [shape.x1, shape.y2],
      ];
    case "rotated-rectangle": {
      const { cx, cy, rx, ry, angle } = shape;
      return [
        rotate(cx, cy, angle, -rx, -ry),
        rotate(cx, cy, angle, rx, -ry),
        rotate(cx, cy, angle, rx, ry),
        rotate(cx, cy, angle, -rx, ry),
      ];
    }
    default:
      return null;
  }
}

/** Axis-aligned bounds of what the shape paints (strokes included). */
export function shapeBounds(shape: Shape): Bounds {
  const corners = shapeCorners(shape);
  if (corners) return boxOf(corners);
  switch (shape.type) {
    case "circle":
      return { x: shape.cx - shape.r, y: shape.cy - shape.r, width: 2 * shape.r, height: 2 * shape.r };
    case "ellipse":
    case "rotated-ellipse": {
      const angle = shape.type === "ellipse" ? 0 : shape.angle;
      const c = Math.cos(rad(angle));
      const s = Math.sin(rad(angle));
      const hw = Math.sqrt((shape.rx * c) ** 2 + (shape.ry * s) ** 2);
      const hh = Math.sqrt((shape.rx * s) ** 2 + (shape.ry * c) ** 2);
      return { x: shape.cx - hw, y: shape.cy - hh, width: 2 * hw, height: 2 * hh };
    }
    case "bezier": {
      const b = quadBounds(shape.p0, shape.c, shape.p1);
      const h = shape.width / 2;
      return { x: b.minX - h, y: b.minY - h, width: b.maxX - b.minX + 2 * h, height: b.maxY - b.minY + 2 * h };
    }
    default:
      throw new Error(`unknown shape ${(shape as Shape).type}`);
  }
}

/** Tight bounds of a quadratic Bézier (its extremes, not the control polygon). */
export function quadBounds(p0: readonly [number, number], c: readonly [number, number], p1: readonly [number, number]) {
  const ext = (a: number, b: number, e: number) => {
    const vals = [a, e];
    const den = a - 2 * b + e;
    if (den !== 0) {
      const t = (a - b) / den;
      if (t > 0 && t < 1) vals.push((1 - t) * (1 - t) * a + 2 * (1 - t) * t * b + t * t * e);
    }
    return [Math.min(...vals), Math.max(...vals)];
  };
  const [minX, maxX] = ext(p0[0], c[0], p1[0]);
  const [minY, maxY] = ext(p0[1], c[1], p1[1]);
  return { minX, minY, maxX, maxY };
}

function boxOf(pts: [number, number][]): Bounds {
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

/**
 * SVG path data using only M, L, Q, C and Z (what Figma's vectorPaths accept), scaled.
 * Ellipses are four cubic arcs (the usual 0.5523 handle length: < 0.03 % radius error).
 * For `bezier` the path is the open centre line; it is meant to be stroked with `width`.
 */
export function shapePathData(shape: Shape, scale = 1): string {
  const P = (x: number, y: number) => `${fmt(x * scale)} ${fmt(y * scale)}`;
  const corners = shapeCorners(shape);
  if (corners) return `M ${corners.map(([x, y]) => P(x, y)).join(" L ")} Z`;
  switch (shape.type) {
    case "bezier":
      return `M ${P(...shape.p0)} Q ${P(...shape.c)} ${P(...shape.p1)}`;
    case "circle":
    case "ellipse":
    case "rotated-ellipse": {
      const rx = shape.type === "circle" ? shape.r : shape.rx;
      const ry = shape.type === "circle" ? shape.r : shape.ry;
      const angle = shape.type === "rotated-ellipse" ? shape.angle : 0;
      const k = 0.5522847498;
      const at = (u: number, v: number) => P(...rotate(shape.cx, shape.cy, angle, u, v));
      return (
        `M ${at(rx, 0)} ` +
        `C ${at(rx, k * ry)} ${at(k * rx, ry)} ${at(0, ry)} ` +
        `C ${at(-k * rx, ry)} ${at(-rx, k * ry)} ${at(-rx, 0)} ` +
        `C ${at(-rx, -k * ry)} ${at(-k * rx, -ry)} ${at(0, -ry)} ` +
        `C ${at(k * rx, -ry)} ${at(rx, -k * ry)} ${at(rx, 0)} Z`
      );
    }
    default:
      throw new Error(`unknown shape ${(shape as Shape).type}`);
  }
}

/**
 * A gradient shape's `<linearGradient>` (id `id`), in the user space of the element that uses it:
 * a rotated rectangle or ellipse is drawn in its own rotated frame, so the stops are mapped into it.
 */
function gradientDef(shape: Shape, scale: number, id: string): string {
  const g = shape.gradient!;
  let at = (x: number, y: number): [number, number] => [x * scale, y * scale];
  if (shape.type === "rotated-rectangle" || shape.type === "rotated-ellipse") {
    const c = Math.cos(rad(shape.angle));
    const sn = Math.sin(rad(shape.angle));
    at = (x, y) => {
      const u = (x - shape.cx) * scale;
      const v = (y - shape.cy) * scale;
      return [u * c + v * sn, -u * sn + v * c];
    };
  }
  const [x1, y1] = at(g.x1, g.y1);
  const [x2, y2] = at(g.x2, g.y2);
  return (
    `<linearGradient id="${id}" gradientUnits="userSpaceOnUse" x1="${fmt(x1)}" y1="${fmt(y1)}" x2="${fmt(x2)}" y2="${fmt(y2)}">` +
    `<stop offset="0" stop-color="${colorHex(shape.color)}"/><stop offset="1" stop-color="${colorHex(g.to)}"/></linearGradient>`
  );
}

/**
 * One SVG element for a shape, scaled. Polygons use even-odd filling, as the engine does. A
 * gradient shape is preceded by its `<linearGradient>`, given the id `id` (unique per document).
 */
export function shapeToSvg(shape: Shape, scale = 1, id = "g"): string {
  const ink = shape.gradient ? `url(#${id})` : colorHex(shape.color);
  const element = flatSvg(shape, scale, ink);
  return shape.gradient ? `<defs>${gradientDef(shape, scale, id)}</defs>${element}` : element;
}

function flatSvg(shape: Shape, scale: number, ink: string): string {
  const paint = `fill="${ink}" fill-opacity="${fmt4(colorOpacity(shape.color))}"`;
  const s = (v: number) => fmt(v * scale);
  switch (shape.type) {
    case "triangle":
    case "polygon":
      return `<polygon points="${shape.points.map((p) => `${s(p[0])},${s(p[1])}`).join(" ")}" fill-rule="evenodd" ${paint}/>`;
    case "rectangle":
      return `<rect x="${s(shape.x1)}" y="${s(shape.y1)}" width="${s(shape.x2 - shape.x1)}" height="${s(shape.y2 - shape.y1)}" ${paint}/>`;
    case "rotated-rectangle":
      return `<rect x="${s(-shape.rx)}" y="${s(-shape.ry)}" width="${s(2 * shape.rx)}" height="${s(2 * shape.ry)}" transform="translate(${s(shape.cx)} ${s(shape.cy)}) rotate(${fmt(shape.angle)})" ${paint}/>`;
    case "ellipse":
      return `<ellipse cx="${s(shape.cx)}" cy="${s(shape.cy)}" rx="${s(shape.rx)}" ry="${s(shape.ry)}" ${paint}/>`;
    case "rotated-ellipse":
      return `<ellipse rx="${s(shape.rx)}" ry="${s(shape.ry)}" transform="translate(${s(shape.cx)} ${s(shape.cy)}) rotate(${fmt(shape.angle)})" ${paint}/>`;
    case "circle":
      return `<circle cx="${s(shape.cx)}" cy="${s(shape.cy)}" r="${s(shape.r)}" ${paint}/>`;
    case "bezier":
      return `<path d="${shapePathData(shape, scale)}" fill="none" stroke="${ink}" stroke-opacity="${fmt4(colorOpacity(shape.color))}" stroke-width="${s(shape.width)}" stroke-linecap="round"/>`;
    default:
      throw new Error(`unknown shape ${(shape as Shape).type}`);
  }
}

function fmt4(v: number): string {
  return String(Math.round(v * 10000) / 10000);
}

/**
 * A whole result as an SVG document. `size` is the output size in pixels (default: the working
 * size); shapes are scaled by size.width / list.width. A result with `clip: "alpha"` needs
 * `alphaMask`: the URL (e.g. a data: URL) of an image that is white where the layer is opaque and
 * carries its alpha. It is used as a luminance mask (white × alpha = alpha: SVG 1.1's default
 * mask type, drawn the same by every renderer), so soft edges stay soft.
 */
export function shapesToSvg(list: ShapeList, size?: { width: number; height: number }, alphaMask?: string): string {
  const width = size?.width ?? list.width;
  const height = size?.height ?? list.height;
  const scale = width / list.width;
  const sy = height / list.height;
  // Non-uniform output sizes (rare: rounding) stretch the group rather than each shape.
  const group = Math.abs(scale - sy) > 1e-9 ? ` transform="scale(1 ${fmt4(sy / scale)})"` : "";
  if (list.clip && !alphaMask)
    throw new Error("this result is clipped by its layer's alpha: pass the alpha mask image");
  const masked = list.clip && alphaMask;
  const lines = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    ...(masked
      ? [
          `<mask id="alpha" maskUnits="userSpaceOnUse" x="0" y="0" width="${width}" height="${height}">`,
          `<image href="${alphaMask}" width="${width}" height="${height}" preserveAspectRatio="none"/>`,
          "</mask>",
          `<g mask="url(#alpha)">`,
        ]
      : []),
    `<rect width="${width}" height="${height}" fill="${colorHex(list.background)}"/>`,
    `<g${group}>`,
    ...list.shapes.map((shape, i) => shapeToSvg(shape, scale, `g${i}`)),
    "</g>",
    ...(masked ? ["</g>"] : []),
    "</svg>",
  ];
  return `${lines.join("\n")}\n`;
}
