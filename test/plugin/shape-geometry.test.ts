import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyTransform,
  toLocal,
  type NodeSpec,
  primitivesFrameName,
  quadBounds,
  rotatedAbout,
  scaleBetween,
  shapeName,
  shapeToNode,
  toPaint,
} from "../../shared/shape-geometry";
import type { Shape } from "../../shared/shapes";

const color = { r: 255, g: 51, b: 0, a: 128 };
const coord = fc.double({ min: -50, max: 300, noNaN: true });
const radius = fc.double({ min: 0.5, max: 100, noNaN: true });
const angle = fc.double({ min: -360, max: 360, noNaN: true });

/** Parse "M x y L x y ... Z" into absolute points (node position added back). */
function pathPoints(spec: Extract<NodeSpec, { kind: "vector" }>): [number, number][] {
  const nums = spec.path.match(/-?\d+(\.\d+)?(e-?\d+)?/g)!.map(Number);
  const pts: [number, number][] = [];
  for (let i = 0; i < nums.length; i += 2) pts.push([nums[i] + spec.x, nums[i + 1] + spec.y]);
  return pts;
}

describe("shape geometry", () => {
  it("scales from working size to node size per axis and rejects empty sizes", () => {
    expect(scaleBetween({ width: 200, height: 100 }, { width: 400, height: 300 })).toEqual({ sx: 2, sy: 3 });
    expect(() => scaleBetween({ width: 0, height: 100 }, { width: 10, height: 10 })).toThrow(/cannot scale/);
  });

  it("turns colour bytes into Figma paint with the alpha as opacity", () => {
    const p = toPaint(color);
    expect(p.color).toEqual({ r: 1, g: 0.2, b: 0 });
    expect(p.opacity).toBeCloseTo(128 / 255, 10);
  });

  it("triangles become closed vector paths at the scaled points, relative to the node", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(coord, coord), { minLength: 3, maxLength: 3 }), (points) => {
        const shape = { type: "triangle", points, color } as Shape;
        const spec = shapeToNode(shape, { sx: 2, sy: 0.5 });
        if (spec.kind !== "vector") throw new Error("expected a vector");
        expect(spec.path).toMatch(/^M [-\d.e]+ [-\d.e]+ L .* Z$/);
        expect(spec.stroke).toBeNull();
        expect(spec.fill?.opacity).toBeCloseTo(128 / 255);
        const got = pathPoints(spec);
        got.forEach(([x, y], i) => {
          expect(x).toBeCloseTo(points[i][0] * 2, 2);
          expect(y).toBeCloseTo(points[i][1] * 0.5, 2);
        });
        // the path starts at the bounds' top-left, so no coordinate is negative
        const rel = spec.path.match(/-?\d+(\.\d+)?/g)!.map(Number);
        expect(Math.min(...rel)).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it("polygons keep all four points in drawing order", () => {
    const points = [
      [0, 0],
      [10, 0],
      [10, 10],
      [0, 10],
    ] as [number, number][];
    const spec = shapeToNode({ type: "polygon", points: points as never, color }, { sx: 3, sy: 3 });
    expect(spec).toMatchObject({ kind: "vector", x: 0, y: 0, path: "M 0 0 L 30 0 L 30 30 L 0 30 Z" });
  });

  it("axis-aligned rectangles and ellipses scale position and size per axis", () => {
    const r = shapeToNode({ type: "rectangle", x1: 30, y1: 5, x2: 10, y2: 25, color }, { sx: 2, sy: 4 });
    expect(r).toMatchObject({ kind: "rectangle", width: 40, height: 80 });
    if (r.kind !== "rectangle") throw new Error();
    expect(applyTransform(r.transform, 0, 0)).toEqual([20, 20]);

    const e = shapeToNode({ type: "ellipse", cx: 50, cy: 40, rx: 10, ry: 5, color }, { sx: 2, sy: 2 });
    expect(e).toMatchObject({ kind: "ellipse", width: 40, height: 20 });
    if (e.kind !== "ellipse") throw new Error();
    expect(applyTransform(e.transform, 20, 10)).toEqual([100, 80]); // centre

    const c = shapeToNode({ type: "circle", cx: 10, cy: 10, r: 3, color }, { sx: 1, sy: 1 });
    expect(c).toMatchObject({ kind: "ellipse", width: 6, height: 6 });
  });

  it("rotated shapes rotate about their centre, clockwise on screen", () => {
    fc.assert(
      fc.property(coord, coord, radius, radius, angle, (cx, cy, rx, ry, deg) => {
        for (const type of ["rotated-rectangle", "rotated-ellipse"] as const) {
          const spec = shapeToNode({ type, cx, cy, rx, ry, angle: deg, color }, { sx: 1.5, sy: 1.5 });
          if (spec.kind === "vector") throw new Error("expected a rectangle/ellipse");
          expect(spec.kind).toBe(type === "rotated-rectangle" ? "rectangle" : "ellipse");
          expect(spec.width).toBeCloseTo(2 * rx * 1.5, 6);
          expect(spec.height).toBeCloseTo(2 * ry * 1.5, 6);
          const [mx, my] = applyTransform(spec.transform, spec.width / 2, spec.height / 2);
          expect(mx).toBeCloseTo(cx * 1.5, 6);
          expect(my).toBeCloseTo(cy * 1.5, 6);
          // the transform is a pure rotation (determinant 1, orthonormal)
          const [[a, c], [b, d]] = spec.transform;
          expect(a * d - b * c).toBeCloseTo(1, 9);
          expect(a * a + b * b).toBeCloseTo(1, 9);
        }
      }),
    );
  });

  it("90° clockwise turns the node's local x axis to point down", () => {
    const m = rotatedAbout(0, 0, 10, 2, 90);
    const [x0, y0] = applyTransform(m, 0, 1);
    const [x1, y1] = applyTransform(m, 10, 1);
    expect(x1 - x0).toBeCloseTo(0, 9);
    expect(y1 - y0).toBeCloseTo(10, 9);
  });

  it("béziers are stroked (no fill) with the scaled width and tight bounds", () => {
    const spec = shapeToNode(
      { type: "bezier", p0: [0, 0], c: [50, 100], p1: [100, 0], width: 3, color },
      { sx: 2, sy: 2 },
    );
    if (spec.kind !== "vector") throw new Error();
    expect(spec.fill).toBeNull();
    expect(spec.stroke?.weight).toBe(6);
    expect(spec.path).toBe("M 0 0 Q 100 200 200 0");
    expect([spec.x, spec.y]).toEqual([0, 0]);

    fc.assert(
      fc.property(fc.tuple(coord, coord), fc.tuple(coord, coord), fc.tuple(coord, coord), (p0, c, p1) => {
        const b = quadBounds(p0, c, p1);
        let [loX, loY, hiX, hiY] = [Infinity, Infinity, -Infinity, -Infinity];
        for (let i = 0; i <= 400; i++) {
          const t = i / 400;
          const x = (1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * c[0] + t * t * p1[0];
          const y = (1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * c[1] + t * t * p1[1];
          [loX, loY, hiX, hiY] = [Math.min(loX, x), Math.min(loY, y), Math.max(hiX, x), Math.max(hiY, y)];
        }
        const tol = 1e-6 + 0.01 * (Math.abs(c[0]) + Math.abs(c[1]) + 1);
        expect(b.minX).toBeLessThanOrEqual(loX + 1e-9);
        expect(b.maxX).toBeGreaterThanOrEqual(hiX - 1e-9);
        expect(loX - b.minX).toBeLessThan(tol);
        expect(b.maxY - hiY).toBeLessThan(tol);
        expect(loY - b.minY).toBeLessThan(tol);
      }),
    );
  });

  it("degenerate shapes still get a size Figma accepts", () => {
    const spec = shapeToNode({ type: "rectangle", x1: 5, y1: 5, x2: 5, y2: 5, color }, { sx: 1, sy: 1 });
    if (spec.kind === "vector") throw new Error();
    expect(spec.width).toBeGreaterThanOrEqual(0.01);
    expect(spec.height).toBeGreaterThanOrEqual(0.01);
  });

  it("names shapes and the result frame readably", () => {
    const tri = {
      type: "triangle",
      points: [
        [0, 0],
        [1, 0],
        [0, 1],
      ],
      color,
    } as Shape;
    const circ = { type: "circle", cx: 0, cy: 0, r: 1, color } as Shape;
    expect(shapeName(tri, 0)).toBe("Triangle 1");
    expect(primitivesFrameName("Photo", [tri, tri])).toBe("Primitives — Photo (2 triangles)");
    expect(primitivesFrameName("Photo", [tri])).toBe("Primitives — Photo (1 triangle)");
    expect(primitivesFrameName("Photo", [tri, circ])).toBe("Primitives — Photo (2 shapes)");
  });
});

describe("gradient paints", () => {
  const gradient = { x1: 10, y1: 20, x2: 40, y2: 5, to: { r: 0, g: 255, b: 51 } };
  const shapes: Shape[] = [
    {
      type: "triangle",
      points: [
        [5, 5],
        [60, 20],
        [20, 40],
      ],
      color,
      gradient,
    },
    { type: "rectangle", x1: 5, y1: 2, x2: 50, y2: 30, color, gradient },
    { type: "rotated-ellipse", cx: 25, cy: 15, rx: 20, ry: 8, angle: 35, color, gradient },
    { type: "bezier", p0: [0, 0], c: [30, 40], p1: [60, 10], width: 3, color, gradient },
  ];
  const s = { sx: 2, sy: 1.5 };

  /** The node's own frame and box: what Figma's gradientTransform is relative to. */
  function frameOf(
    spec: NodeSpec,
    shape: Shape,
  ): { toLocal: (p: [number, number]) => [number, number]; w: number; h: number } {
    if (spec.kind !== "vector") {
      const t = spec.transform;
      return { toLocal: ([x, y]) => toLocal(t, x, y), w: spec.width, h: spec.height };
    }
    const pts =
      shape.type === "bezier"
        ? (() => {
            const b = quadBounds(
              [shape.p0[0] * s.sx, shape.p0[1] * s.sy],
              [shape.c[0] * s.sx, shape.c[1] * s.sy],
              [shape.p1[0] * s.sx, shape.p1[1] * s.sy],
            );
            return [
              [b.minX, b.minY],
              [b.maxX, b.maxY],
            ];
          })()
        : pathPoints(spec);
    const w = Math.max(...pts.map((p) => p[0])) - spec.x;
    const h = Math.max(...pts.map((p) => p[1])) - spec.y;
    return { toLocal: ([x, y]) => [x - spec.x, y - spec.y], w, h };
  }

  it("maps the stops to Figma's gradient handles (0, 0.5) and (1, 0.5) in each node's unit box", () => {
    for (const shape of shapes) {
      const spec = shapeToNode(shape, s);
      const fill = spec.kind === "vector" ? (spec.fill ?? spec.stroke!.paint) : spec.paint;
      if (!("gradient" in fill)) throw new Error(`${shape.type}: no gradient`);
      expect(fill.stops).toEqual([toPaint(color).color, { r: 0, g: 1, b: 0.2 }]);
      expect(fill.opacity).toBeCloseTo(128 / 255);
      const { toLocal, w, h } = frameOf(spec, shape);
      const unit = (x: number, y: number) => {
        const [lx, ly] = toLocal([x * s.sx, y * s.sy]);
        return applyTransform(fill.gradient, lx / w, ly / h);
      };
      const [a0, b0] = unit(gradient.x1, gradient.y1);
      const [a1, b1] = unit(gradient.x2, gradient.y2);
      expect([a0, b0, a1, b1].map((v) => Math.round(v * 1e6) / 1e6 + 0)).toEqual([0, 0.5, 1, 0.5]);
      // Halfway between the stops, the colour is halfway too.
      expect(unit((gradient.x1 + gradient.x2) / 2, (gradient.y1 + gradient.y2) / 2)[0]).toBeCloseTo(0.5, 6);
    }
  });

  it("flat shapes keep a solid paint", () => {
    const spec = shapeToNode({ type: "rectangle", x1: 0, y1: 0, x2: 10, y2: 10, color }, s);
    expect(spec.kind !== "vector" && spec.paint).toEqual(toPaint(color));
  });
});
