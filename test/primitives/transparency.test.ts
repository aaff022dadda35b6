// Layers with transparency (background "none"): the error weighs alpha², and the result is
// clipped by the layer's alpha. The model stays exact; the rendered result's coverage matches.
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import type { RgbaImage } from "../../companion/image";
import { runPrimitives } from "../../companion/primitives/run";
import { renderRgba } from "../../companion/primitives/render";
import { coverageTarget } from "../../shared/primitives/coverage";
import { Model } from "../../shared/primitives/model";
import { fromShape } from "../../shared/primitives/params";
import { Spans } from "../../shared/primitives/raster";
import { Rng } from "../../shared/primitives/rng";
import { type PrimitivesOptions, PrimitivesOptionsSchema } from "../../shared/protocol";
import type { ShapeList } from "../../shared/shapes";
import { shapesToSvg } from "../../shared/svg";
import { cutouts, testCard } from "./helpers";

const SIZE = 96;
const budget = { climbs: 4, candidates: 60, age: 30 };
const options = (o: Partial<PrimitivesOptions> = {}) =>
  v.parse(PrimitivesOptionsSchema, { count: 30, workSize: SIZE, seed: 3, background: "none", ...o });

async function run(image: RgbaImage, o: Partial<PrimitivesOptions> = {}): Promise<ShapeList> {
  return (await runPrimitives(image, options(o), { workers: 2, budget })).list;
}

const alphaRmse = (a: RgbaImage, b: RgbaImage) => {
  let sum = 0;
  for (let i = 3; i < a.data.length; i += 4) sum += ((a.data[i] - b.data[i]) / 255) ** 2;
  return Math.sqrt(sum / (a.width * a.height));
};

describe("transparency in the model", () => {
  it("predicts exactly the error change with alpha² weights, zero ones included", () => {
    const rng = new Rng(4);
    const W = 12;
    const H = 10;
    const out = new Int32Array(3);
    for (let trial = 0; trial < 20; trial++) {
      const data = Uint8Array.from({ length: W * H * 4 }, (_, i) =>
        i % 4 === 3 ? [0, 0, 255, rng.int(256)][rng.int(4)] : rng.int(256),
      );
      const { rgb, weights } = coverageTarget(data, W, H);
      const alpha = trial % 2 ? 128 : 0;
      const model = new Model(W, H, rgb, { r: 90, g: 90, b: 90, a: 255 }, alpha, { weights });
      const spans = new Spans(W, H);
      spans.rasterize(
        0,
        Array.from({ length: 6 }, (_, i) => rng.float() * (i % 2 ? H : W)),
      );
      const a = alpha || 1 + rng.int(255);
      const predicted = model.energy(spans, a, out);
      const before = model.total;
      model.draw(spans, out[0], out[1], out[2], a);
      let brute = 0;
      for (let i = 0; i < W * H; i++)
        for (let ch = 0; ch < 3; ch++) brute += weights[i] * (rgb[3 * i + ch] - model.canvas[3 * i + ch]) ** 2;
      expect(model.total).toBeCloseTo(brute, 6);
      expect(model.total - before).toBeCloseTo(predicted, 6);
    }
  });
});

describe("transparent layers through the engine", () => {
  const pictures = cutouts(SIZE);

  it("keeps the coverage of a disc, a logo and a photo cut-out (alpha within 0.05 RMSE), no shape on empty pixels", async () => {
    for (const [name, image] of Object.entries(pictures)) {
      const list = await run(image);
      expect(list.clip, name).toBe("alpha");
      const rendered = await renderRgba(list, { width: SIZE, height: SIZE }, image);
      expect(alphaRmse(image, rendered), name).toBeLessThan(0.05);
      // every shape covers some of the layer: none is spent on transparent pixels only
      const spans = new Spans(SIZE, SIZE);
      const p = new Float64Array(8);
      for (const shape of list.shapes) {
        spans.rasterize(fromShape(shape, p), p);
        let seen = 0;
        for (let i = 0; i < spans.count; i++)
          for (let x = spans.x1[i]; x <= spans.x2[i]; x++) seen += image.data[4 * (spans.y[i] * SIZE + x) + 3];
        expect(seen, `${name}: ${JSON.stringify(shape)}`).toBeGreaterThan(0);
      }
      // the score is honest: the premultiplied RGBA RMSE of the clipped render against the layer
      let sum = 0;
      for (let i = 0; i < SIZE * SIZE; i++) {
        const a = image.data[4 * i + 3] / 255;
        for (let ch = 0; ch < 3; ch++) sum += (a * (rendered.data[4 * i + ch] - image.data[4 * i + ch])) ** 2;
      }
      expect(Math.abs(Math.sqrt(sum / (SIZE * SIZE * 4)) / 255 - list.score!), name).toBeLessThan(0.01);
    }
  }, 60_000);

  it("the disc's colour is matched where it shows (not pulled towards a matte)", async () => {
    const list = await run(pictures.disc, { count: 1 });
    expect(list.background).toEqual({ r: 240, g: 140, b: 60, a: 255 });
    expect(list.score!).toBeLessThan(0.01);
  });

  it('"avg" still flattens onto white into an opaque result; "none" on an opaque layer is exactly "avg"', async () => {
    const flat = await run(pictures.disc, { background: "avg", count: 5 });
    expect(flat.clip).toBeUndefined();
    const rendered = await renderRgba(flat, { width: SIZE, height: SIZE });
    expect(alphaRmse(pictures.disc, rendered)).toBeGreaterThan(0.5);
    const card = testCard(SIZE, 72);
    expect(await run(card, { count: 8 })).toEqual(await run(card, { count: 8, background: "avg" }));
  }, 30_000);

  it("an SVG of a clipped result masks its group by the alpha image, and refuses to be written without one", () => {
    const list: ShapeList = {
      width: 4,
      height: 4,
      background: { r: 1, g: 2, b: 3, a: 255 },
      clip: "alpha",
      shapes: [],
    };
    expect(() => shapesToSvg(list)).toThrow(/alpha mask/);
    const svg = shapesToSvg(list, undefined, "data:image/png;base64,AAAA");
    expect(svg).toMatch(/<mask id="alpha"[^>]*>\n<image href="data:image\/png;base64,AAAA"/);
    expect(svg).toMatch(/<g mask="url\(#alpha\)">\n<rect [^>]*fill="#010203"\/>/);
  });
});
