// Small generated images for the primitives tests (tests never read ../shared fixtures).
import sharp from "sharp";
import type { RgbaImage } from "../../companion/image";
import { Model, targetRgb } from "../../shared/primitives/model";
import { fromShape } from "../../shared/primitives/params";
import { Spans } from "../../shared/primitives/raster";
import type { PrimitivesEvent, PrimitivesSession } from "../../shared/primitives/session";
import type { PrimitivesOptions } from "../../shared/protocol";
import type { ShapeList } from "../../shared/shapes";

/** Small, fast primitives options for tests: 12 triangles at 48 px, seed 1; override what a test is about. */
export const testOptions = (o: Partial<PrimitivesOptions> = {}): PrimitivesOptions => ({
  count: 12,
  shape: "triangle",
  alpha: 128,
  workSize: 48,
  background: "avg",
  seed: 1,
  algorithm: "hillclimb",
  focusWeight: 4,
  ...o,
});

/** Every event of a session's run; the session is closed after, also when the run fails. */
export async function allEvents(session: PrimitivesSession): Promise<PrimitivesEvent[]> {
  const events: PrimitivesEvent[] = [];
  try {
    for await (const e of session.shapes()) events.push(e);
  } finally {
    await session.close();
  }
  return events;
}

/** A one-colour PNG file (RGB, no alpha; `background` a hex colour like "#808080"), for the CLI tests. */
export const writeSolidPng = (path: string, width: number, height: number, background: string) =>
  sharp({ create: { width, height, channels: 3, background } })
    .png()
    .toFile(path);

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
    const { color: c, gradient: g } = shape;
    if (g) model.drawGradient(spans, [c.r, c.g, c.b], [g.to.r, g.to.g, g.to.b], c.a, [g.x1, g.y1, g.x2, g.y2]);
    else model.draw(spans, c.r, c.g, c.b, c.a);
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

/** Coverage of a signed distance (px, negative inside): a one-pixel soft edge, as a renderer's. */
const cover = (d: number) => Math.max(0, Math.min(1, 0.5 - d));

function picture(size: number, f: (x: number, y: number) => number[]): RgbaImage {
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) data.set(f((x + 0.5) / size, (y + 0.5) / size).map(Math.round), 4 * (y * size + x));
  return { width: size, height: size, data };
}

/** Layers with transparency: a disc, a logo-like ring and bar, a photo cut out with a feathered edge. */
export function cutouts(size: number): Record<"disc" | "logo" | "photo", RgbaImage> {
  const px = size; // distances below are in units of the side; × px gives pixels
  return {
    disc: picture(size, (x, y) => [240, 140, 60, 255 * cover((Math.hypot(x - 0.5, y - 0.5) - 0.4) * px)]),
    logo: picture(size, (x, y) => {
      const r = Math.hypot(x - 0.5, y - 0.5);
      const ring = Math.max(r - 0.42, 0.28 - r) * px;
      const bar = Math.max(Math.abs(y - 0.5) - 0.07, Math.abs(x - 0.5) - 0.47) * px;
      const a = 255 * Math.max(cover(ring), cover(bar));
      return bar < ring ? [30, 60, 160, a] : [230, 50, 70, a];
    }),
    photo: picture(size, (x, y) => {
      const t = Math.atan2(y - 0.5, x - 0.5);
      const edge = (Math.hypot(x - 0.5, y - 0.5) - 0.35 - 0.09 * Math.sin(3 * t)) * px;
      const a = 255 * Math.max(0, Math.min(1, 0.5 - edge / 4)); // a 4 px feather, like a soft cut-out
      const u = x * 200;
      const v = y * 200;
      return [
        120 + 80 * Math.sin(u / 17) + 40 * Math.cos(v / 9),
        90 + 60 * Math.cos((u + v) / 23),
        60 + 50 * Math.sin(v / 13),
        a,
      ];
    }),
  };
}

/** A coffee-like photo: wood grain, a saucer and a cup of coffee with a crema swirl, a spoon. */
export function coffeeLike(width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const v = y / height;
      const grain = 20 * Math.sin(v * 90 + 6 * Math.sin(u * 7)) + 10 * Math.sin(u * 240 + v * 30);
      let c = [150 + grain, 100 + grain * 0.7, 60 + grain * 0.4];
      const d = Math.hypot((u - 0.42) / 0.75, v - 0.5);
      if (d < 0.4) c = [235 - 60 * d, 230 - 60 * d, 222 - 60 * d]; // saucer
      if (d < 0.27) c = [245, 242, 236]; // cup rim
      if (d < 0.22) {
        const swirl = Math.sin(12 * Math.atan2(v - 0.5, u - 0.42) + 40 * d);
        c = d < 0.12 ? [200 + 30 * swirl, 150 + 25 * swirl, 100 + 20 * swirl] : [90 + 30 * swirl, 50 + 15 * swirl, 25];
      }
      if (Math.abs(v - 0.5 - (u - 0.75) * 0.3) < 0.025 && u > 0.7 && u < 0.97) c = [180, 185, 195]; // spoon
      data.set([...c.map((ch) => Math.max(0, Math.min(255, Math.round(ch)))), 255], 4 * (y * width + x));
    }
  return { width, height, data };
}
