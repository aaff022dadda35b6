// The final colour refit against the engine's own model: it starts from the model's error, the
// shapes it returns (gradient stops moved too) draw to the error it reports, it never makes things
// worse, and it finds the closed-form colour where one shape's visible part decides it.
import { describe, expect, it } from "vitest";
import type { Found } from "../../shared/primitives/messages";
import { Model } from "../../shared/primitives/model";
import { T_RECTANGLE, T_ROT_ELLIPSE, T_TRIANGLE } from "../../shared/primitives/params";
import { Spans } from "../../shared/primitives/raster";
import { refitColours } from "../../shared/primitives/refit";
import { Rng } from "../../shared/primitives/rng";

const W = 48;
const H = 32;
const BG = { r: 90, g: 120, b: 150, a: 255 };

/** A picture with edges and a ramp, so colours found early are not the best at the end. */
function picture(): Float64Array {
  const t = new Float64Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const j = 3 * (y * W + x);
      t[j] = x < 20 ? 200 : 40 + 3 * y;
      t[j + 1] = (x + y) % 16 < 8 ? 30 : 220;
      t[j + 2] = 5 * x;
    }
  return t;
}

function randomShapes(n: number, gradient: boolean, seed: number): Found[] {
  const rng = new Rng(seed, 0, 0);
  const colour = (): Found["color"] => [rng.int(256), rng.int(256), rng.int(256)];
  return Array.from({ length: n }, (_, i) => {
    const x = rng.float() * W;
    const y = rng.float() * H;
    const p =
      i % 2
        ? [x, y, x + 20 * rng.float() - 10, y + 20, x + 20, y + 10 * rng.float()]
        : [x, y, 4 + 10 * rng.float(), 3 + 8 * rng.float(), 180 * rng.float()];
    const f: Found = { code: i % 2 ? T_TRIANGLE : T_ROT_ELLIPSE, p, alpha: 128, color: colour(), energy: 0, climb: 0 };
    if (gradient) f.gradient = { color: colour(), stops: [x - 5, y - 3, x + 6, y + 8] };
    return f;
  });
}

/** The model's total squared error after drawing `shapes` in order. */
function modelTotal(target: Float64Array, shapes: Found[], weights?: Float64Array): number {
  const model = new Model(W, H, target, BG, 128, { weights, gradient: shapes.some((s) => s.gradient) });
  const spans = new Spans(W, H);
  for (const s of shapes) {
    spans.rasterize(s.code, s.p);
    if (s.gradient) model.drawGradient(spans, s.color, s.gradient.color, s.alpha, s.gradient.stops);
    else model.draw(spans, s.color[0], s.color[1], s.color[2], s.alpha);
  }
  return model.total;
}

describe("refitColours", () => {
  for (const gradient of [false, true])
    it(`agrees with the model before and after, and lowers the error (${gradient ? "gradient" : "flat"} fills)`, () => {
      const target = picture();
      const weights = Float64Array.from({ length: W * H }, (_, i) => (i % W < 24 ? 4 : 1)); // a focus
      for (const withWeights of [undefined, weights]) {
        const shapes = randomShapes(30, gradient, 7);
        const r = refitColours(shapes, { width: W, height: H, target, weights: withWeights, background: BG })!;
        expect(r.before / modelTotal(target, shapes, withWeights)).toBeCloseTo(1, 9);
        expect(r.after / modelTotal(target, r.found, withWeights)).toBeCloseTo(1, 9);
        expect(r.after).toBeLessThan(0.8 * r.before); // random colours: a lot to gain
        expect(r.found.map((f) => f.p)).toEqual(shapes.map((f) => f.p)); // geometry untouched
        const moved = r.found.filter(
          (f, i) => f.gradient && f.gradient.stops.join() !== shapes[i].gradient!.stops.join(),
        );
        expect(moved.length > 0).toBe(gradient); // ramps climbed again
        for (const f of r.found)
          for (const c of [...f.color, ...(f.gradient?.color ?? [])])
            expect(Number.isInteger(c) && c >= 0 && c <= 255).toBe(true);
      }
    });

  it("gives a shape the colour its visible part asks for, and keeps a palette", () => {
    // a constant target; the lower rectangle is half covered by an opaque one
    const target = new Float64Array(W * H * 3).fill(100);
    const low: Found = { code: T_RECTANGLE, p: [0, 0, 23, 31], alpha: 128, color: [0, 0, 0], energy: 0, climb: 0 };
    const top: Found = { code: T_RECTANGLE, p: [0, 0, 11, 31], alpha: 255, color: [0, 0, 0], energy: 0, climb: 0 };
    const r = refitColours([low, top], { width: W, height: H, target, background: BG })!;
    // where `low` shows: (1 − a)·BG + a·c = 100 → c = (100 − (1 − a)·BG) / a, per channel
    const a = 128 / 255;
    expect(r.found[0].color).toEqual([BG.r, BG.g, BG.b].map((b) => Math.round((100 - (1 - a) * b) / a)));
    expect(r.found[1].color).toEqual([100, 100, 100]);
    const palette = [0, 0, 0, 255, 255, 255, 120, 90, 60];
    const p = refitColours([low, top], { width: W, height: H, target, background: BG, palette })!;
    for (const f of p.found)
      expect([
        [0, 0, 0],
        [255, 255, 255],
        [120, 90, 60],
      ]).toContainEqual(f.color);
    expect(p.found[1].color).toEqual([120, 90, 60]); // nearest to 100 grey
    expect(p.after).toBeLessThan(p.before);
  });
});
