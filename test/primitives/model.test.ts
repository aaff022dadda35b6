// The scoring maths: closed-form colour and error change against brute force on small cases.
import { describe, expect, it } from "vitest";
import { Model, averageColor, targetRgb } from "../../shared/primitives/model";
import { fromShape } from "../../shared/primitives/params";
import { Spans } from "../../shared/primitives/raster";
import { Rng } from "../../shared/primitives/rng";
import type { Shape } from "../../shared/shapes";

const W = 9;
const H = 7;

/** A model with a structured canvas; `alpha` specialises its sums (0 = any opacity). */
function randomModel(rng: Rng, alpha = 0): Model {
  const data = new Uint8Array(W * H * 4);
  for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : rng.int(256);
  const rgb = targetRgb(data, W, H);
  const model = new Model(W, H, rgb, averageColor(rgb), alpha);
  // Give the canvas some structure so canvas and target differ unevenly.
  const spans = new Spans(W, H);
  const p = new Float64Array(8);
  for (let k = 0; k < 3; k++) {
    const shape: Shape = {
      type: "triangle",
      points: [
        [rng.float() * W, rng.float() * H],
        [rng.float() * W, rng.float() * H],
        [rng.float() * W, rng.float() * H],
      ],
      color: { r: 0, g: 0, b: 0, a: 255 },
    };
    spans.rasterize(fromShape(shape, p), p);
    model.draw(spans, rng.int(256), rng.int(256), rng.int(256), 1 + rng.int(255));
  }
  return model;
}

/** Squared error over the covered pixels of one channel after blending colour c at opacity a. */
function bruteError(model: Model, spans: Spans, ch: number, c: number, alpha: number): number {
  const a = alpha / 255;
  let err = 0;
  for (let i = 0; i < spans.count; i++) {
    for (let x = spans.x1[i]; x <= spans.x2[i]; x++) {
      const j = 3 * (spans.y[i] * W + x) + ch;
      const blended = model.canvas[j] * (1 - a) + c * a;
      err += (model.target[j] - blended) ** 2 - (model.target[j] - model.canvas[j]) ** 2;
    }
  }
  return err;
}

describe("closed-form colour", () => {
  it("equals the best colour found by trying all 256 values per channel", () => {
    const rng = new Rng(7);
    const out = new Int32Array(3);
    for (let trial = 0; trial < 30; trial++) {
      const alpha = [255, 128, 37, 1 + rng.int(255)][trial % 4];
      // Both sum layouts: specialised for this opacity, and general.
      const model = randomModel(rng, trial % 2 ? alpha : 0);
      const spans = new Spans(W, H);
      spans.rasterize(3, [rng.float() * W, rng.float() * H, 1 + rng.float() * 4, 1 + rng.float() * 4]);
      if (spans.area() === 0) continue;
      const delta = model.energy(spans, alpha, out);
      let bruteDelta = 0;
      for (let ch = 0; ch < 3; ch++) {
        let best = 0;
        let bestErr = Number.POSITIVE_INFINITY;
        for (let c = 0; c <= 255; c++) {
          const e = bruteError(model, spans, ch, c, alpha);
          if (e < bestErr - 1e-9) [best, bestErr] = [c, e];
        }
        // Ties (a flat minimum) may pick either neighbour; the error must be the minimum.
        expect(bruteError(model, spans, ch, out[ch], alpha)).toBeCloseTo(bestErr, 6);
        expect(Math.abs(out[ch] - best)).toBeLessThanOrEqual(1);
        bruteDelta += bestErr;
      }
      expect(delta).toBeCloseTo(bruteDelta, 6);
    }
  });

  it("predicts exactly the error change that drawing causes", () => {
    const rng = new Rng(11);
    const model = randomModel(rng);
    const fixed = randomModel(new Rng(11), 77);
    const spans = new Spans(W, H);
    const out = new Int32Array(3);
    for (let k = 0; k < 20; k++) {
      spans.rasterize(0, [rng.float() * W, rng.float() * H, rng.float() * W, rng.float() * H, rng.float() * W, 0]);
      const alpha = 1 + rng.int(255);
      const before = model.total;
      const delta = model.energy(spans, alpha, out);
      model.draw(spans, out[0], out[1], out[2], alpha);
      expect(model.total - before).toBeCloseTo(delta, 6);
      expect(delta).toBeLessThanOrEqual(1e-9);
      const fixedBefore = fixed.total;
      const fixedDelta = fixed.energy(spans, 77, out);
      fixed.draw(spans, out[0], out[1], out[2], 77);
      expect(fixed.total - fixedBefore).toBeCloseTo(fixedDelta, 6);
    }
    expect(() => fixed.energy(spans, 78, out)).toThrow(/specialised/);
    // And the running total is the real sum of squared errors.
    let sum = 0;
    for (let i = 0; i < model.canvas.length; i++) sum += (model.target[i] - model.canvas[i]) ** 2;
    expect(model.total).toBeCloseTo(sum, 6);
    expect(model.score()).toBeCloseTo(Math.sqrt(sum / (W * H * 4)) / 255, 12);
  });
});

describe("target preparation", () => {
  it("flattens transparent pixels onto white (or a matte) and averages the rest for the background", () => {
    const data = new Uint8Array([0, 0, 0, 0, 100, 50, 0, 255, 200, 0, 0, 51]);
    const rgb = targetRgb(data, 3, 1);
    expect([...rgb.subarray(0, 6)]).toEqual([255, 255, 255, 100, 50, 0]);
    expect(rgb[6]).toBeCloseTo(200 * 0.2 + 255 * 0.8, 9);
    const onBlack = targetRgb(data, 3, 1, { r: 0, g: 0, b: 10, a: 255 });
    expect([...onBlack.subarray(0, 3)]).toEqual([0, 0, 10]);
    expect(onBlack[6]).toBeCloseTo(200 * 0.2, 9);
    expect(averageColor(rgb)).toEqual({
      r: Math.round((255 + 100 + 244) / 3),
      g: Math.round((255 + 50 + 204) / 3),
      b: 153,
      a: 255,
    });
  });
});
