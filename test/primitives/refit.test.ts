// The final colour refit against the engine's own model: it starts from the model's error, the
// shapes it returns (gradient stops moved too) draw to the error it reports, it never makes things
// worse, and it finds the closed-form colour where one shape's visible part decides it.
import { describe, expect, it } from "vitest";
import type { Found } from "../../shared/primitives/messages";
import { Model } from "../../shared/primitives/model";
import { T_RECTANGLE, T_ROT_ELLIPSE, T_TRIANGLE } from "../../shared/primitives/params";
import { Spans } from "../../shared/primitives/raster";
import { rampScorer } from "../../shared/primitives/ramp-refit";
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

  it("scores a ramp in O(rows) exactly as pixel by pixel: the error change it reports is its colours' real one", () => {
    const rng = new Rng(3, 1, 4);
    const spans = new Spans(W, H);
    for (const [code, p] of [
      [T_TRIANGLE, [2, 3, 45, 9, 20, 30]],
      [T_ROT_ELLIPSE, [24, 16, 20, 9, 30]],
    ] as const) {
      spans.rasterize(code, p);
      const list: number[] = [];
      for (let r = 0; r < spans.count; r++)
        for (let x = spans.x1[r]; x <= spans.x2[r]; x++) list.push(spans.y[r] * W + x);
      const pixels = Int32Array.from(list);
      // strengths as later shapes leave them (some pixels hidden), a residual, a focus
      const m = Float64Array.from(list, () => (rng.int(5) === 0 ? 0 : (0.2 + 0.8 * rng.float()) * 0.5));
      const r0 = Float64Array.from({ length: 3 * list.length }, () => 255 * rng.float() - 60);
      const weights = Float64Array.from({ length: W * H }, () => 1 + 3 * rng.float());
      const alpha = 128;
      const { evaluate, c0, c1 } = rampScorer({ pixels, m, r0, alpha, width: W, weights, palette: null });
      for (let t = 0; t < 40; t++) {
        // stops anywhere, steep or flat, some ramps ending inside the shape (clamped stretches)
        const st = [60 * rng.float() - 6, 40 * rng.float() - 4, 60 * rng.float() - 6, 40 * rng.float() - 4];
        if (t % 5 === 0) st[3] = st[1]; // along x only
        if (t % 7 === 3) st[2] = st[0]; // along y only: constant on each row
        const delta = evaluate(st);
        const ex = st[2] - st[0];
        const ey = st[3] - st[1];
        const e2 = ex * ex + ey * ey;
        let real = 0;
        let scale = 0;
        for (let i = 0; i < list.length; i++) {
          const x = list[i] % W;
          const y = (list[i] - x) / W;
          const s = e2 > 0 ? Math.min(1, Math.max(0, ((x + 0.5 - st[0]) * ex + (y + 0.5 - st[1]) * ey) / e2)) : 0;
          for (let ch = 0; ch < 3; ch++) {
            const f = (1 - s) * c0[ch] + s * c1[ch];
            real += weights[list[i]] * ((r0[3 * i + ch] - m[i] * f) ** 2 - r0[3 * i + ch] ** 2);
            scale += weights[list[i]] * r0[3 * i + ch] ** 2;
          }
        }
        expect(Math.abs(delta - real)).toBeLessThan(1e-9 * scale);
        expect(real).toBeLessThan(0); // some colours always beat none
      }
    }
  });

  it("turns a gradient's ramp to where the picture's ramp is (tries scored exactly, clamped ends too)", () => {
    // the target: red to blue from x = 12 to x = 36, flat beyond; one opaque gradient rectangle
    // starts with its ramp across the other way and the wrong colours
    const target = new Float64Array(W * H * 3);
    for (let p = 0; p < W * H; p++) {
      const s = Math.min(1, Math.max(0, ((p % W) + 0.5 - 12) / 24));
      target.set([240 * (1 - s), 20, 240 * s], 3 * p);
    }
    const shape: Found = {
      code: T_RECTANGLE,
      p: [0, 0, W, H],
      alpha: 255,
      color: [0, 200, 0],
      gradient: { color: [200, 200, 200], stops: [20, 4, 28, 28] },
      energy: 0,
      climb: 0,
    };
    const r = refitColours([shape], { width: W, height: H, target, background: BG })!;
    expect(r.after).toBeLessThan(0.01 * r.before);
    const [x1, y1, x2, y2] = r.found[0].gradient!.stops;
    expect(Math.abs(x2 - x1)).toBeGreaterThan(8 * Math.abs(y2 - y1)); // along x now
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
