// Focus (error weights) and palette (colours only from a list): the model's maths against brute
// force, and their effect on whole runs through the engine.
import { describe, expect, it } from "vitest";
import type { RgbaImage } from "../../companion/image";
import { createPrimitives } from "../../companion/primitives/engine";
import { focusWeights, paletteRgb } from "../../shared/primitives/controls";
import { Model, targetRgb } from "../../shared/primitives/model";
import { Spans } from "../../shared/primitives/raster";
import { Rng } from "../../shared/primitives/rng";
import { type PrimitivesOptions, PrimitivesOptionsSchema } from "../../shared/protocol";
import { shapeBounds } from "../../shared/svg";
import * as v from "valibot";
import { allEvents, testCard } from "./helpers";

const W = 12;
const H = 10;
const PALETTE = ["#1d3b8f", "#f2c230", "#ffffff", "#202020", "#c0392b"];

function randomTarget(rng: Rng): Float64Array {
  const data = new Uint8Array(W * H * 4);
  for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : rng.int(256);
  return targetRgb(data, W, H);
}

/** Weighted squared error of a model's canvas, from scratch. */
function bruteTotal(model: Model, weights: Float64Array): number {
  let total = 0;
  for (let i = 0; i < W * H; i++)
    for (let ch = 0; ch < 3; ch++) total += weights[i] * (model.target[3 * i + ch] - model.canvas[3 * i + ch]) ** 2;
  return total;
}

function randomTriangle(rng: Rng): number[] {
  return [rng.float() * W, rng.float() * H, rng.float() * W, rng.float() * H, rng.float() * W, rng.float() * H];
}

describe("focus weights in the model", () => {
  it("predicts exactly the weighted error change a drawn shape makes, with the best weighted colour", () => {
    const rng = new Rng(11);
    const out = new Int32Array(3);
    for (let trial = 0; trial < 24; trial++) {
      const weights = Float64Array.from({ length: W * H }, () => 1 + rng.int(8) * 0.5);
      const alpha = trial % 2 ? 128 : 0;
      const model = new Model(W, H, randomTarget(rng), { r: 90, g: 90, b: 90, a: 255 }, alpha, { weights });
      const spans = new Spans(W, H);
      spans.rasterize(0, randomTriangle(rng));
      if (spans.area() === 0) continue;
      const a = alpha || 1 + rng.int(255);
      const predicted = model.energy(spans, a, out);
      // the closed-form colour beats its neighbours by one step in every channel
      for (let ch = 0; ch < 3; ch++)
        for (const step of [-1, 1]) {
          const c = [out[0], out[1], out[2]];
          c[ch] = Math.max(0, Math.min(255, c[ch] + step));
          expect(model.delta(spans, a, c)).toBeGreaterThanOrEqual(predicted - 1e-6);
        }
      const before = bruteTotal(model, weights);
      model.draw(spans, out[0], out[1], out[2], a);
      const after = bruteTotal(model, weights);
      expect(after - before).toBeCloseTo(predicted, 6);
      expect(model.total).toBeCloseTo(after, 6);
    }
  });

  it("weighs white mask pixels by the focus weight and black or transparent ones by 1", () => {
    const mask = new Uint8Array([255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 0, 128, 128, 128, 255]);
    const w = focusWeights(mask, 4, 1, 5);
    expect(Array.from(w.slice(0, 3))).toEqual([5, 1, 1]);
    expect(w[3]).toBeCloseTo(1 + 4 * (128 / 255), 10);
  });
});

describe("palette in the model", () => {
  it("colours a fixed shape with the palette entry that lowers the error most", () => {
    const rng = new Rng(5);
    const palette = paletteRgb(PALETTE);
    const out = new Int32Array(3);
    for (let trial = 0; trial < 40; trial++) {
      const alpha = trial % 2 ? 200 : 0;
      const model = new Model(W, H, randomTarget(rng), { r: 128, g: 128, b: 128, a: 255 }, alpha, { palette });
      const spans = new Spans(W, H);
      spans.rasterize(0, randomTriangle(rng));
      if (spans.area() === 0) continue;
      const a = alpha || 1 + rng.int(255);
      const energy = model.energy(spans, a, out);
      const entries = [];
      for (let i = 0; i < palette.length; i += 3) entries.push(palette.slice(i, i + 3));
      expect(entries).toContainEqual([out[0], out[1], out[2]]);
      const best = Math.min(...entries.map((c) => model.delta(spans, a, c)));
      expect(energy).toBe(best);
    }
  });
});

const card = testCard(96, 72);
const options = (o: Partial<PrimitivesOptions>) =>
  v.parse(PrimitivesOptionsSchema, { count: 30, workSize: 96, seed: 2, ...o });
const budget = { climbs: 4, candidates: 60, age: 30 };

async function shapesOf(o: Partial<PrimitivesOptions>, focus?: RgbaImage) {
  const events = await allEvents(await createPrimitives(card, options(o), { workers: 2, budget, focus }));
  return events.map((e) => e.shape);
}

describe("focus and palette through the engine", () => {
  it("every fill is a palette colour, for each shape type and the seed variant", async () => {
    const allowed = new Set(PALETTE.map((h) => h.slice(1)));
    const hex = (c: { r: number; g: number; b: number }) =>
      [c.r, c.g, c.b].map((x) => x.toString(16).padStart(2, "0")).join("");
    for (const o of [
      { shape: "triangle" as const },
      { shape: "combo" as const, alpha: 0 },
      { algorithm: "seed" as const },
    ]) {
      const shapes = await shapesOf({ ...o, palette: PALETTE, count: 15 });
      expect(shapes.length).toBe(15);
      for (const s of shapes) expect(allowed).toContain(hex(s.color));
    }
  }, 30_000);

  it("puts more shapes inside the focus mask than without it", async () => {
    // focus: the left third of the card, where it is a plain gradient with little to gain
    const mask = new Uint8Array(96 * 72 * 4);
    for (let y = 0; y < 72; y++) for (let x = 0; x < 32; x++) mask.set([255, 255, 255, 255], 4 * (y * 96 + x));
    const focusImage = { width: 96, height: 72, data: mask };
    const inside = (shapes: Awaited<ReturnType<typeof shapesOf>>) =>
      shapes.filter((s) => {
        const b = shapeBounds(s);
        return b.x + b.width / 2 < 32;
      }).length;
    const plain = inside(await shapesOf({}));
    const focused = inside(await shapesOf({ focusWeight: 16 }, focusImage));
    expect(focused).toBeGreaterThan(plain);
  }, 30_000);
});
