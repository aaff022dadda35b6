// The engine's compact shape form: a type code plus up to 8 numbers in a reusable Float64Array,
// so random generation, mutation and undo never allocate. Converted to/from the shared `Shape`
// objects only at the edges (an accepted shape, or a shape given by a test).
import { type Color, type Gradient, SHAPE_TYPES, type Shape, type ShapeType } from "../shapes";

export const T_TRIANGLE = 0;
export const T_RECTANGLE = 1;
export const T_ROT_RECT = 2;
export const T_ELLIPSE = 3;
export const T_ROT_ELLIPSE = 4;
export const T_CIRCLE = 5;
export const T_POLYGON = 6;
export const T_BEZIER = 7;
export const PARAMS = 8;

/** Type codes are indices into SHAPE_TYPES. */
export function typeCode(type: ShapeType): number {
  return SHAPE_TYPES.indexOf(type);
}

/**
 * Layout of `p` per type (working-image pixels, angles in degrees):
 * triangle x1 y1 x2 y2 x3 y3 · rectangle x1 y1 x2 y2 · rotated-rectangle / rotated-ellipse cx cy rx ry angle ·
 * ellipse cx cy rx ry · circle cx cy r · polygon x1 y1 … x4 y4 · bezier x0 y0 cx cy x1 y1 width
 */
export function toShape(code: number, p: ArrayLike<number>, color: Color, gradient?: Gradient): Shape {
  const shape = flatShape(code, p, color);
  return gradient ? { ...shape, gradient } : shape;
}

function flatShape(code: number, p: ArrayLike<number>, color: Color): Shape {
  const pt = (i: number): [number, number] => [p[i], p[i + 1]];
  switch (code) {
    case T_TRIANGLE:
      return { type: "triangle", points: [pt(0), pt(2), pt(4)], color };
    case T_RECTANGLE:
      return {
        type: "rectangle",
        x1: Math.min(p[0], p[2]),
        y1: Math.min(p[1], p[3]),
        x2: Math.max(p[0], p[2]),
        y2: Math.max(p[1], p[3]),
        color,
      };
    case T_ROT_RECT:
      return { type: "rotated-rectangle", cx: p[0], cy: p[1], rx: p[2], ry: p[3], angle: p[4], color };
    case T_ELLIPSE:
      return { type: "ellipse", cx: p[0], cy: p[1], rx: p[2], ry: p[3], color };
    case T_ROT_ELLIPSE:
      return { type: "rotated-ellipse", cx: p[0], cy: p[1], rx: p[2], ry: p[3], angle: p[4], color };
    case T_CIRCLE:
      return { type: "circle", cx: p[0], cy: p[1], r: p[2], color };
    case T_POLYGON:
      return { type: "polygon", points: [pt(0), pt(2), pt(4), pt(6)], color };
    case T_BEZIER:
      return { type: "bezier", p0: pt(0), c: pt(2), p1: pt(4), width: p[6], color };
    default:
      throw new Error(`unknown shape code ${code}`);
  }
}

/** Writes a shape's geometry into `p` and returns its type code. */
export function fromShape(shape: Shape, p: Float64Array): number {
  const put = (values: number[]) => p.set(values);
  switch (shape.type) {
    case "triangle":
      put(shape.points.flat());
      break;
    case "rectangle":
      put([shape.x1, shape.y1, shape.x2, shape.y2]);
      break;
    case "rotated-rectangle":
    case "rotated-ellipse":
      put([shape.cx, shape.cy, shape.rx, shape.ry, shape.angle]);
      break;
    case "ellipse":
      put([shape.cx, shape.cy, shape.rx, shape.ry]);
      break;
    case "circle":
      put([shape.cx, shape.cy, shape.r]);
      break;
    case "polygon":
      put(shape.points.flat());
      break;
    case "bezier":
      put([...shape.p0, ...shape.c, ...shape.p1, shape.width]);
      break;
  }
  return typeCode(shape.type);
}
