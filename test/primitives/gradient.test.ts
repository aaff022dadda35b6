// Gradient fills: the stop colours' closed form and the predicted error change against brute
// force (fixed and per-shape opacity, focus weights, palette), and whole runs through the engine.
import { describe, expect, it } from "vitest";
import { createPrimitives } from "../../companion/primitives/engine";
import { paletteRgb } from "../../shared/primitives/controls";
import { Model, targetRgb } from "../../shared/primitives/model";
import { Spans } from "../../shared/primitives/raster";
import { Rng } from "../../shared/primitives/rng";
import type { PrimitivesOptions } from "../../shared/protocol";
import { colorHex } from "../../shared/svg";
import { allEvents, testCard, testOptions } from "./helpers";

const W = 14;
const H = 11;
const PALETTE = ["#1d3b8f", "#f2c230", "#ffffff", "#202020", "#c0392b", "#7fb069"];

type Setup = { alpha: number; weights?: Float64Array; palette?: number[] };

function model(rng: Rng, setup: Setup, data?: Uint8Array): Model {
  const px = data ?? Uint8Array.from({ length: W * H * 4 }, (_, i) => (i % 4 === 3 ? 255 : rng.int(256)));
  const m = new Model(W, H, targetRgb(px, W, H), { r: 90, g: 120, b: 60, a: 255 }, setup.alpha, {
    ...setup,
    gradient: true,
  });
  // An uneven canvas: a few gradient shapes drawn already.
  const spans = new Spans(W, H);
  const c0 = new Int32Array(3);
  const c1 = new Int32Array(3);
  const stops = new Float64Array(4);
  for (let k = 0; k < 3; k++) {
    spans.rasterize(0, triangle(rng));
    const a = setup.alpha || 1 + rng.int(255);
    const angle = rng.float() * 360;
    m.energyGradient(spans, a, c0, c1, undefined, angle);
    m.gradientStops(spans, stops, angle);
    m.drawGradient(spans, [rng.int(256), rng.int(256), rng.int(256)], c1, a, stops);
  }
  return m;
}

function triangle(rng: Rng): number[] {
  return [rng.float() * W, rng.float() * H, rng.float() * W, rng.float() * H, rng.float() * W, rng.float() * H];
}

/** (Weighted) squared error change of blending a gradient with these stops, pixel by pixel. */
function bruteDelta(
  m: Model,
  spans: Spans,
  a255: number,
  stops: Float64Array,
  c0: number[],
  c1: number[],
  wts?: Float64Array,
) {
  const a = a255 / 255;
  const [x1, y1, x2, y2] = stops;
  const e2 = (x2 - x1) ** 2 + (y2 - y1) ** 2;
  let delta = 0;
  for (let i = 0; i < spans.count; i++) {
    const y = spans.y[i];
    for (let x = spans.x1[i]; x <= spans.x2[i]; x++) {
      const s = Math.min(1, Math.max(0, ((x + 0.5 - x1) * (x2 - x1) + (y + 0.5 - y1) * (y2 - y1)) / e2));
      const w = wts ? wts[y * m.width + x] : 1;
      for (let ch = 0; ch < 3; ch++) {
        const j = 3 * (y * m.width + x) + ch;
        const k = m.canvas[j];
        const t = m.target[j];
        const after = (1 - a) * k + a * ((1 - s) * c0[ch] + s * c1[ch]);
        delta += w * ((t - after) ** 2 - (t - k) ** 2);
      }
    }
  }
  return delta;
}

/** The error change of the best single colour (least squares, rounded; or the best palette entry). */
function bestFlat(m: Model, spans: Spans, a255: number, stops: Float64Array, setup: Setup): number {
  const pal = setup.palette;
  if (pal) {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < pal.length; i += 3) {
      const c = pal.slice(i, i + 3);
      best = Math.min(best, bruteDelta(m, spans, a255, stops, c, c, setup.weights));
    }
    return best;
  }
  const a = a255 / 255;
  const c = [0, 0, 0];
  for (let ch = 0; ch < 3; ch++) {
    let g = 0;
    let n = 0;
    for (let i = 0; i < spans.count; i++)
      for (let x = spans.x1[i]; x <= spans.x2[i]; x++) {
        const p = spans.y[i] * W + x;
        const w = setup.weights ? setup.weights[p] : 1;
        g += w * (m.target[3 * p + ch] - (1 - a) * m.canvas[3 * p + ch]);
        n += w;
      }
    c[ch] = n ? Math.min(255, Math.max(0, Math.round(g / (a * n)))) : 0;
  }
  return bruteDelta(m, spans, a255, stops, c, c, setup.weights);
}

const setups = (rng: Rng): Setup[] => [
  { alpha: 128 },
  { alpha: 0 },
  { alpha: 200, weights: Float64Array.from({ length: W * H }, () => rng.int(5) * 0.75) },
  { alpha: 0, weights: Float64Array.from({ length: W * H }, () => 1 + rng.int(8)) },
  { alpha: 128, palette: paletteRgb(PALETTE) },
];

describe("gradient fills in the model", () => {
  it("predicts exactly the error change drawing the gradient causes, and its stops are the best", () => {
    const rng = new Rng(5);
    const c0 = new Int32Array(3);
    const c1 = new Int32Array(3);
    const stops = new Float64Array(4);
    let checked = 0;
    for (let trial = 0; trial < 40; trial++) {
      const setup = setups(rng)[trial % 5];
      const m = model(rng, setup);
      const spans = new Spans(W, H);
      spans.rasterize(0, triangle(rng));
      if (spans.area() < 3) continue;
      const a = setup.alpha || 1 + rng.int(255);
      // A given direction, or (what the search uses) the fitted one; the ramp over the whole
      // extent, or over a window of it (clamped beyond, as renderers pad), turned or not.
      const angle = trial % 2 ? rng.float() * 720 - 360 : undefined;
      const lo = trial % 3 ? rng.float() * 0.8 : 0;
      const ramp = {
        lo,
        hi: trial % 3 ? lo + 0.05 + rng.float() * (0.95 - lo) : 1,
        turn: trial % 4 > 1 ? rng.float() * 90 - 45 : 0,
      };
      const predicted = m.energyGradient(spans, a, c0, c1, ramp, angle);
      m.gradientStops(spans, stops, angle);
      const g0 = [...c0];
      const g1 = [...c1];
      expect(bruteDelta(m, spans, a, stops, g0, g1, setup.weights)).toBeCloseTo(predicted, 6);
      // Best stops: a one-step change of one channel gains less than one byte's worth (a²·Σw; the
      // two stops are rounded separately), and the far stop is the best palette entry given the near one.
      const options = setup.palette
        ? Array.from({ length: setup.palette.length / 3 }, (_, i) => setup.palette!.slice(3 * i, 3 * i + 3))
        : null;
      let weight = 0;
      for (let i = 0; i < spans.count; i++)
        for (let x = spans.x1[i]; x <= spans.x2[i]; x++)
          weight += setup.weights ? setup.weights[spans.y[i] * W + x] : 1;
      const slack = options ? 1e-6 * Math.abs(predicted) : (a / 255) ** 2 * weight;
      for (const stop of options ? [1] : [0, 1]) {
        const tries =
          options ??
          [0, 1, 2].flatMap((ch) => [-1, 1].map((d) => (stop ? g1 : g0).map((v, c) => (c === ch ? v + d : v))));
        for (const t of tries) {
          if (t.some((v) => v < 0 || v > 255)) continue;
          const alt = stop
            ? bruteDelta(m, spans, a, stops, g0, t, setup.weights)
            : bruteDelta(m, spans, a, stops, t, g1, setup.weights);
          expect(alt).toBeGreaterThanOrEqual(predicted - slack);
        }
      }
      // Never worse than the best flat colour.
      const flat = bestFlat(m, spans, a, stops, setup);
      expect(predicted).toBeLessThanOrEqual(flat + 1e-6 * Math.abs(flat));
      if (setup.palette)
        for (const c of [g0, g1]) expect(PALETTE).toContain(colorHex({ r: c[0], g: c[1], b: c[2], a: 255 }));
      const before = m.total;
      m.drawGradient(spans, g0, g1, a, stops);
      expect(m.total - before).toBeCloseTo(predicted, 6);
      checked++;
    }
    expect(checked).toBeGreaterThan(25);
  });

  it("stays exact far from the origin: slivers and wide shapes at the right, and at the foot, of a 2048 px canvas", () => {
    // The whole-extent ramp is summed from moments (Σw·x², …): check that cancellation costs
    // nothing visible where x or y is large and the shape thin (y is taken from the shape's first
    // row; x from the canvas's edge, where the model's prefix sums start anyway).
    const rng = new Rng(3);
    const c0 = new Int32Array(3);
    const c1 = new Int32Array(3);
    const stops = new Float64Array(4);
    const wide = [
      [2040.2, 1.3, 2046.9, 22.8, 2041.1, 23.6], // a sliver: about a pixel across
      [1100.5, 0.2, 2047.5, 12.1, 1500.3, 23.9], // wide, far from the origin
      [2030.4, 3.1, 2031.2, 3.4, 2030.9, 20.7], // one column
    ];
    // the same turned on their side, and slivers one row high near the foot
    const tall = wide.map((p) => [p[1], p[0], p[3], p[2], p[5], p[4]]);
    for (let i = 0; i < 6; i++) {
      const y = 1500 + rng.float() * 540;
      tall.push([0.3 + rng.float(), y, 23.7 - rng.float(), y + 0.3, 2 + rng.float() * 20, y + 0.6]);
    }
    for (const [w, h, shapes] of [
      [2048, 24, wide],
      [24, 2048, tall],
    ] as const) {
      const px = Uint8Array.from({ length: w * h * 4 }, (_, i) => (i % 4 === 3 ? 255 : rng.int(256)));
      for (const alpha of [128, 0]) {
        const m = new Model(w, h, targetRgb(px, w, h), { r: 90, g: 120, b: 60, a: 255 }, alpha, { gradient: true });
        const spans = new Spans(w, h);
        for (const p of shapes) {
          spans.rasterize(0, p);
          if (spans.area() === 0) continue;
          const a = alpha || 77;
          // The fitted direction; and one almost across a one-row sliver, a ramp over a fraction
          // of a pixel, where the per-row sums before the moments were as far off (≤ 1.2e-7 here; unshifted moments: 3 %).
          for (const [angle, tolerance] of [
            [Number.NaN, 1e-9],
            [89.999, 1e-6],
          ]) {
            const predicted = m.energyGradient(spans, a, c0, c1, undefined, angle);
            m.gradientStops(spans, stops, angle);
            const brute = bruteDelta(m, spans, a, stops, [...c0], [...c1]);
            expect(Math.abs(brute - predicted)).toBeLessThan(tolerance * Math.abs(brute) + 1e-6);
          }
          m.drawGradient(spans, c0, c1, a, stops);
        }
      }
    }
  });

  it("re-sums another ramp for the same shape exactly as a fresh evaluation does", () => {
    const rng = new Rng(9);
    const c0 = new Int32Array(3);
    const c1 = new Int32Array(3);
    const d0 = new Int32Array(3);
    const d1 = new Int32Array(3);
    for (let trial = 0; trial < 20; trial++) {
      const setup = setups(rng)[trial % 5];
      const m = model(rng, setup);
      const spans = new Spans(W, H);
      spans.rasterize(0, triangle(rng));
      const a = setup.alpha || 1 + rng.int(255);
      m.energyGradient(spans, a, c0, c1);
      // A window, or the whole extent (where refines start): each ramp summed one way, whoever asks.
      const lo = trial % 3 ? rng.float() * 0.5 : 0;
      const hi = trial % 3 ? lo + 0.05 + rng.float() * 0.45 : 1;
      const ramp = { lo, hi, turn: trial % 2 ? rng.float() * 90 - 45 : 0 };
      const again = m.energyGradientRamp(spans, a, c0, c1, ramp);
      expect(m.energyGradient(spans, a, d0, d1, ramp)).toBe(again);
      expect([...d0, ...d1]).toEqual([...c0, ...c1]);
      // A given angle, turned, twice: the same (the angle's cache is not the turned direction).
      expect(m.energyGradient(spans, a, d0, d1, ramp, 30)).toBe(m.energyGradient(spans, a, c0, c1, ramp, 30));
    }
    // Re-summing needs the spans the last evaluation measured.
    const m = model(rng, setups(rng)[0]);
    const [one, other] = [new Spans(W, H), new Spans(W, H)];
    one.rasterize(0, triangle(rng));
    other.rasterize(0, triangle(rng));
    m.energyGradient(one, 128, c0, c1);
    expect(() => m.energyGradientRamp(other, 128, c0, c1, { lo: 0, hi: 0.5, turn: 0 })).toThrow(/spans/);
  });

  it("splits a shape across a hard edge with a narrow window, where a ramp over the whole shape cannot", () => {
    // Black left, white right; one rectangle over all of it, drawn opaque.
    const data = new Uint8Array(W * H * 4);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) data.set(x < W / 2 ? [0, 0, 0, 255] : [255, 255, 255, 255], 4 * (y * W + x));
    const m = new Model(W, H, targetRgb(data, W, H), { r: 128, g: 128, b: 128, a: 255 }, 255, { gradient: true });
    const spans = new Spans(W, H);
    spans.rasterize(1, [0, 0, W, H]);
    const c0 = new Int32Array(3);
    const c1 = new Int32Array(3);
    const whole = m.energyGradient(spans, 255, c0, c1);
    // The edge lies between pixel centres 6.5 and 7.5 of the extent 0.5..13.5: s from 6/13 to 7/13.
    const narrow = m.energyGradient(spans, 255, c0, c1, { lo: 6 / 13, hi: 7 / 13, turn: 0 });
    const stops = new Float64Array(4);
    m.gradientStops(spans, stops);
    m.drawGradient(spans, c0, c1, 255, stops);
    expect(m.score()).toBeLessThan(0.01);
    expect(narrow).toBeLessThan(whole);
    // The whole-extent ramp leaves a clear error (a straight ramp through a step).
    const ramp = new Model(W, H, m.target, { r: 128, g: 128, b: 128, a: 255 }, 255, { gradient: true });
    ramp.energyGradient(spans, 255, c0, c1);
    ramp.gradientStops(spans, stops);
    ramp.drawGradient(spans, c0, c1, 255, stops);
    expect(ramp.score()).toBeGreaterThan(0.1);
  });

  it("rebuilds a linear ramp under a shape almost exactly, where one colour cannot", () => {
    const data = new Uint8Array(W * H * 4);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const v = 15 * x - 10 * y; // −100..195, rising along (15, −10)
        data.set([100 + 0.5 * v, 150 - 0.4 * v, 90, 255], 4 * (y * W + x));
      }
    const m = new Model(W, H, targetRgb(data, W, H), { r: 0, g: 0, b: 0, a: 255 }, 255, { gradient: true });
    const spans = new Spans(W, H);
    spans.rasterize(1, [0, 0, W, H]);
    const c0 = new Int32Array(3);
    const c1 = new Int32Array(3);
    const stops = new Float64Array(4);
    // The fitted direction is the ramp's own, (15, −10): the stops lie along it.
    m.energyGradient(spans, 255, c0, c1);
    m.gradientStops(spans, stops);
    const [dx, dy] = [stops[2] - stops[0], stops[3] - stops[1]];
    expect(Math.abs(dx * -10 - dy * 15) / Math.hypot(dx, dy) / Math.hypot(15, 10)).toBeLessThan(1e-2);
    m.drawGradient(spans, c0, c1, 255, stops);
    const flat = new Model(W, H, m.target, { r: 0, g: 0, b: 0, a: 255 }, 255);
    const f = new Int32Array(3);
    flat.energy(spans, 255, f);
    flat.draw(spans, f[0], f[1], f[2], 255);
    expect(m.score()).toBeLessThan(0.01);
    expect(flat.score()).toBeGreaterThan(0.05);
    // From the near stop to the far one, red changes with (15, −10) and green against it.
    const along = Math.sign(dx * 15 - dy * 10);
    expect(Math.sign(c1[0] - c0[0])).toBe(along);
    expect(Math.sign(c1[1] - c0[1])).toBe(-along);
  });
});

const OPTIONS = testOptions({ focusWeight: 16 });
const BUDGET = { climbs: 2, candidates: 40, age: 30 };

async function run(options: Partial<PrimitivesOptions>, workers = 1) {
  return allEvents(await createPrimitives(testCard(64, 48), { ...OPTIONS, ...options }, { workers, budget: BUDGET }));
}

describe("gradient fills through the engine", () => {
  it("gives every shape a gradient whose stops span it, deterministic over worker counts", async () => {
    const one = await run({ fill: "gradient", shape: "combo", alpha: 0 });
    expect(one).toHaveLength(12);
    for (const { shape } of one) {
      expect(shape.gradient).toBeDefined();
      const g = shape.gradient!;
      expect(Math.hypot(g.x2 - g.x1, g.y2 - g.y1)).toBeGreaterThan(0);
    }
    expect(one.some((e) => colorHex(e.shape.color) !== colorHex({ ...e.shape.gradient!.to, a: 255 }))).toBe(true);
    const two = await run({ fill: "gradient", shape: "combo", alpha: 0 }, 2);
    expect(JSON.stringify(two)).toBe(JSON.stringify(one));
    // Flat runs carry no gradient.
    for (const { shape } of await run({})) expect(shape.gradient).toBeUndefined();
  });

  it("narrows a shape's ramp to a hard edge under it", async () => {
    // Dark left, light right: the one opaque rectangle that best rebuilds it is split at the edge.
    const [w, h] = [64, 48];
    const data = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) data.set(i % w < 40 ? [20, 30, 60, 255] : [240, 220, 180, 255], 4 * i);
    const options = { ...OPTIONS, count: 1, shape: "rectangle" as const, alpha: 255, fill: "gradient" as const };
    const session = await createPrimitives({ width: w, height: h, data }, options, { workers: 1, budget: BUDGET });
    const [{ shape, score }] = await allEvents(session);
    const g = shape.gradient!;
    // Stops in working pixels, where the edge is at 40/64 of the width.
    const edge = (40 / w) * session.width;
    expect(Math.abs(g.x2 - g.x1)).toBeLessThan(4);
    expect(Math.abs((g.x1 + g.x2) / 2 - edge)).toBeLessThan(2);
    expect(score).toBeLessThan(0.05);
  });

  it("with a palette, both stops are palette colours; the seed variant stays flat", async () => {
    for (const { shape } of await run({ fill: "gradient", palette: PALETTE })) {
      expect(PALETTE).toContain(colorHex(shape.color));
      expect(PALETTE).toContain(colorHex({ ...shape.gradient!.to, a: 255 }));
    }
    for (const { shape } of await run({ fill: "gradient", algorithm: "seed" })) expect(shape.gradient).toBeUndefined();
  });
});
