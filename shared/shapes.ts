// The shape model shared by the primitives engine (which finds shapes), the companion (which
// streams them) and the plugin (which turns each one into a native Figma node).
// Coordinates are in pixels of the *working* image (the engine's resized copy); consumers scale.
import * as v from "valibot";

export const SHAPE_TYPES = [
  "triangle",
  "rectangle",
  "rotated-rectangle",
  "ellipse",
  "rotated-ellipse",
  "circle",
  "polygon",
  "bezier",
] as const;
export type ShapeType = (typeof SHAPE_TYPES)[number];
/** What a user may ask for: one shape type, or `combo` (the engine picks per step). */
export const SHAPE_MODES = [...SHAPE_TYPES, "combo"] as const;
export type ShapeMode = (typeof SHAPE_MODES)[number];

const num = v.pipe(v.number(), v.finite());
const byte = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(255));

/** sRGB colour, 0..255 per channel; `a` is the shape's opacity (255 = opaque). */
export const ColorSchema = v.object({ r: byte, g: byte, b: byte, a: byte });
export type Color = v.InferOutput<typeof ColorSchema>;

const point = v.tuple([num, num]);

/**
 * A two-stop linear gradient: `color` (the shape's) sits at (x1, y1), `to` at (x2, y2), both at
 * the shape's opacity `color.a`; padded beyond the stops. The engine puts the stops at the shape's
 * extent along the direction, so inside the shape the colour runs exactly from one to the other.
 */
export const GradientSchema = v.object({
  x1: num,
  y1: num,
  x2: num,
  y2: num,
  to: v.object({ r: byte, g: byte, b: byte }),
});
export type Gradient = v.InferOutput<typeof GradientSchema>;
/** Every shape's paint: a flat colour, or a gradient from it when `gradient` is set. */
const paint = { color: ColorSchema, gradient: v.optional(GradientSchema) };

export const ShapeSchema = v.variant("type", [
  v.object({ type: v.literal("triangle"), points: v.tuple([point, point, point]), ...paint }),
  /** Axis-aligned; (x1,y1) top-left, (x2,y2) bottom-right. */
  v.object({ type: v.literal("rectangle"), x1: num, y1: num, x2: num, y2: num, ...paint }),
  /** Centre, half-sizes, rotation in degrees (clockwise, y down). */
  v.object({
    type: v.literal("rotated-rectangle"),
    cx: num,
    cy: num,
    rx: num,
    ry: num,
    angle: num,
    ...paint,
  }),
  v.object({ type: v.literal("ellipse"), cx: num, cy: num, rx: num, ry: num, ...paint }),
  v.object({
    type: v.literal("rotated-ellipse"),
    cx: num,
    cy: num,
    rx: num,
    ry: num,
    angle: num,
    ...paint,
  }),
  v.object({ type: v.literal("circle"), cx: num, cy: num, r: num, ...paint }),
  /** A closed quadrilateral (4 points, in drawing order). */
  v.object({ type: v.literal("polygon"), points: v.tuple([point, point, point, point]), ...paint }),
  /** Quadratic Bézier from p0 via control c to p1, stroked with `width` (round caps). */
  v.object({
    type: v.literal("bezier"),
    p0: point,
    c: point,
    p1: point,
    width: v.pipe(num, v.minValue(0)),
    ...paint,
  }),
]);
export type Shape = v.InferOutput<typeof ShapeSchema>;
export type ShapeOf<T extends ShapeType> = Extract<Shape, { type: T }>;

/** A whole primitives result, as written to `.json` and sent as the final result. */
export const ShapeListSchema = v.object({
  width: v.pipe(v.number(), v.integer(), v.minValue(1)),
  height: v.pipe(v.number(), v.integer(), v.minValue(1)),
  background: ColorSchema,
  shapes: v.array(ShapeSchema),
  score: v.optional(num),
  /**
   * "alpha": the source had transparency and the result is to be clipped by its alpha (SVG mask,
   * Figma alpha mask); the background then fills only the silhouette. Absent: opaque, as before.
   */
  clip: v.optional(v.literal("alpha")),
});
export type ShapeList = v.InferOutput<typeof ShapeListSchema>;
