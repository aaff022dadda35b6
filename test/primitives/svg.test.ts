// SVG output: it parses and renders (sharp/librsvg) to within a small RMSE of the engine's canvas.
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { renderRgba, rmse } from "../../companion/primitives/render";
import { runPrimitives } from "../../companion/primitives/run";
import type { Shape, ShapeList } from "../../shared/shapes";
import { shapeBounds, shapePathData, shapesToSvg } from "../../shared/svg";
import { canvasRgba, replay, testCard, testOptions } from "./helpers";

const color = { r: 200, g: 40, b: 90, a: 160 };
const oneOfEach: Shape[] = [
  {
    type: "triangle",
    points: [
      [4, 4],
      [40, 10],
      [12, 30],
    ],
    color,
  },
  { type: "rectangle", x1: 30, y1: 20, x2: 58, y2: 34, color: { ...color, g: 200 } },
  { type: "rotated-rectangle", cx: 20, cy: 30, rx: 10, ry: 4, angle: 30, color: { ...color, b: 250 } },
  { type: "ellipse", cx: 44, cy: 12, rx: 12, ry: 6, color: { ...color, r: 10 } },
  { type: "rotated-ellipse", cx: 15, cy: 14, rx: 9, ry: 4, angle: -40, color: { r: 250, g: 250, b: 0, a: 200 } },
  { type: "circle", cx: 52, cy: 36, r: 6, color: { r: 0, g: 0, b: 0, a: 255 } },
  {
    type: "polygon",
    points: [
      [2, 38],
      [26, 44],
      [10, 46],
      [30, 36],
    ],
    color: { r: 0, g: 90, b: 200, a: 120 },
  },
  { type: "bezier", p0: [5, 20], c: [30, -5], p1: [60, 25], width: 4, color: { r: 255, g: 255, b: 255, a: 220 } },
];
const target = testCard(64, 48);

describe("SVG output", () => {
  it("renders every shape type close to the engine's own canvas", async () => {
    const list: ShapeList = { width: 64, height: 48, background: { r: 90, g: 60, b: 30, a: 255 }, shapes: oneOfEach };
    const engine = canvasRgba(replay(list, target));
    const rendered = await renderRgba(list, { width: 64, height: 48 });
    // Anti-aliased edges differ from centre sampling; the interiors must agree.
    expect(rmse(engine, rendered)).toBeLessThan(0.04);
    // …and it is not trivially close: an empty picture is far off.
    const empty = await renderRgba({ ...list, shapes: [] }, { width: 64, height: 48 });
    expect(rmse(engine, empty)).toBeGreaterThan(0.1);
  });

  it("matches a real run, also scaled up for output", async () => {
    const options = testOptions({ count: 20, shape: "combo", alpha: 0, workSize: 64, seed: 3 });
    const { list } = await runPrimitives(target, options, {
      workers: 1,
      budget: { climbs: 2, candidates: 50, age: 20 },
    });
    const engine = canvasRgba(replay(list, target));
    expect(rmse(engine, await renderRgba(list, { width: 64, height: 48 }))).toBeLessThan(0.03);
    // Rendered at 4x and shrunk back, the picture is the same.
    const big = await renderRgba(list, { width: 256, height: 192 });
    expect([big.width, big.height]).toEqual([256, 192]);
    const small = await sharp(big.data, { raw: { width: 256, height: 192, channels: 4 } })
      .resize(64, 48)
      .raw()
      .toBuffer();
    expect(rmse(engine, { width: 64, height: 48, data: new Uint8Array(small) })).toBeLessThan(0.03);
  });

  it("renders gradient shapes like the engine: every type, rotated frames and strokes included", async () => {
    // Stops across each shape's box, in a different direction per shape.
    const shapes = oneOfEach.map((shape, i): Shape => {
      const b = shapeBounds(shape);
      const t = (i * 47 * Math.PI) / 180;
      const [cx, cy, r] = [b.x + b.width / 2, b.y + b.height / 2, Math.max(b.width, b.height) / 2];
      const gradient = {
        x1: cx - r * Math.cos(t),
        y1: cy - r * Math.sin(t),
        x2: cx + r * Math.cos(t),
        y2: cy + r * Math.sin(t),
      };
      return { ...shape, gradient: { ...gradient, to: { r: 255 - shape.color.r, g: 255 - shape.color.g, b: 30 } } };
    });
    const list: ShapeList = { width: 64, height: 48, background: { r: 90, g: 60, b: 30, a: 255 }, shapes };
    const engine = canvasRgba(replay(list, target));
    const rendered = await renderRgba(list, { width: 64, height: 48 });
    expect(rmse(engine, rendered)).toBeLessThan(0.04);
    // The gradients matter: the same shapes drawn flat, or with the stops swapped, are clearly off.
    const flat = canvasRgba(replay({ ...list, shapes: oneOfEach }, target));
    expect(rmse(flat, rendered)).toBeGreaterThan(0.06);
    const swapped = shapes.map((s) => ({
      ...s,
      gradient: { ...s.gradient!, x1: s.gradient!.x2, y1: s.gradient!.y2, x2: s.gradient!.x1, y2: s.gradient!.y1 },
    }));
    expect(rmse(canvasRgba(replay({ ...list, shapes: swapped }, target)), rendered)).toBeGreaterThan(0.06);
    const svg = shapesToSvg(list);
    expect(svg).toContain('<linearGradient id="g7" gradientUnits="userSpaceOnUse"');
    expect(svg).toContain('stroke="url(#g7)"');
  });

  it("matches a real gradient run", async () => {
    const options = testOptions({ count: 15, shape: "combo", alpha: 0, workSize: 64, seed: 2, fill: "gradient" });
    const { list } = await runPrimitives(target, options, {
      workers: 1,
      budget: { climbs: 2, candidates: 50, age: 20 },
    });
    expect(list.shapes.every((s) => s.gradient)).toBe(true);
    expect(rmse(canvasRgba(replay(list, target)), await renderRgba(list, { width: 64, height: 48 }))).toBeLessThan(
      0.03,
    );
  });

  it("writes well-formed documents and Figma-friendly path data", async () => {
    const list: ShapeList = { width: 64, height: 48, background: { r: 1, g: 2, b: 3, a: 255 }, shapes: oneOfEach };
    const svg = shapesToSvg(list, { width: 128, height: 96 });
    expect(svg).toMatch(/^<svg [^>]*width="128" height="96"/);
    expect(svg).toContain('fill="#010203"');
    expect((await sharp(Buffer.from(svg)).metadata()).width).toBe(128);
    for (const shape of oneOfEach) {
      // Only the commands Figma's vectorPaths accept.
      expect(shapePathData(shape, 2)).toMatch(/^M [-\d. ]+( [LQCZ][-\d. ]*)*$/);
      const b = shapeBounds(shape);
      expect(b.width).toBeGreaterThan(0);
      expect(b.height).toBeGreaterThan(0);
    }
    expect(shapeBounds(oneOfEach[5])).toEqual({ x: 46, y: 30, width: 12, height: 12 });
  });
});
