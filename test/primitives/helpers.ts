// Small generated images for the primitives tests (tests never read ../shared fixtures).
import type { RgbaImage } from "../../companion/image";
import { Model, targetRgb } from "../../shared/primitives/model";
import { fromShape } from "../../shared/primitives/params";
import { Spans } from "../../shared/primitives/raster";
import type { ShapeList } from "../../shared/shapes";

/** A sunset-like test card: vertical gradient, a bright disc and two dark "pyramids". */
export function testCard(width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const v = y / height;
      let r = 40 + 200 * v;
      let g = 20 + 90 * v;
      let b = 90 - 60 * v;
      if ((u - 0.6) ** 2 + (v - 0.55) ** 2 < 0.02) [r, g, b] = [255, 230, 120];
      if (v > 0.6 + Math.abs(u - 0.3) * 1.2 || v > 0.75 + Math.abs(u - 0.8)) [r, g, b] = [30, 15, 10];
      const i = 4 * (y * width + x);
      data.set([r, g, b, 255], i);
    }
  }
  return { width, height, data };
}

/** Replays a shape list into an engine model: the engine's own canvas for that result. */
export function replay(list: ShapeList, target: RgbaImage): Model {
  const model = new Model(
    list.width,
    list.height,
    targetRgb(target.data, target.width, target.height),
    list.background,
  );
  const spans = new Spans(list.width, list.height);
  const p = new Float64Array(8);
  for (const shape of list.shapes) {
    spans.rasterize(fromShape(shape, p), p);
    model.draw(spans, shape.color.r, shape.color.g, shape.color.b, shape.color.a);
  }
  return model;
}

/** A model's canvas as 8-bit RGBA. */
export function canvasRgba(model: Model): RgbaImage {
  const n = model.width * model.height;
  const data = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < 3; ch++) data[4 * i + ch] = Math.round(model.canvas[3 * i + ch]);
    data[4 * i + 3] = 255;
  }
  return { width: model.width, height: model.height, data };
}
