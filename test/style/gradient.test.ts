// The hand-written ONNX backward pass against tfjs autodiff: loss and gradient w.r.t. the image
// agree to ≤ 1e-4 relative error, term by term, for both poolings, with and without masks.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { styleLayerScales } from "../../companion/style/graph/loss";
import { type LossWeights, StyleNet, type Targets } from "../../companion/style/session";
import { randomVggWeights, type VggWeights } from "../../companion/style/vgg-weights";
import { NARROW, ONLY, randomImage } from "./narrow";
import { relativeError, tfLossAndGrad } from "./tf-reference";

beforeAll(() => {
  process.env.STYLIZE_CACHE_DIR = mkdtempSync(join(tmpdir(), "stylize-grad-"));
});

async function setup(weights: VggWeights, pooling: "max" | "avg", h: number, w: number) {
  const net = await StyleNet.open(weights, { pooling, masked: [false, true], device: "cpu" });
  const content = await net.features(randomImage(3 * h * w, 1), h, w);
  const style0 = await net.features(randomImage(3 * h * w, 2), h, w);
  const style1 = await net.features(randomImage(3 * h * w, 3), h, w);
  // A soft mask: a left-right ramp, so masked Grams see fractional weights too.
  const mask = Float32Array.from({ length: h * w }, (_, i) => (i % w) / (w - 1));
  const targets: Targets = {
    content: content.content,
    grams: [style0.grams, style1.grams],
    masks: [undefined, mask],
    styleScales: [styleLayerScales(style0.grams, content.grams), styleLayerScales(style1.grams, content.grams)],
  };
  return { net, targets, x: randomImage(3 * h * w, 4) };
}

async function compare(weights: VggWeights, pooling: "max" | "avg", lw: LossWeights, h = 32, w = 32) {
  const { net, targets, x } = await setup(weights, pooling, h, w);
  try {
    const ours = await net.evaluate(x, h, w, targets, lw);
    const ref = await tfLossAndGrad(x, {
      convs: weights.convs,
      pooling,
      h,
      w,
      contentTarget: targets.content,
      grams: targets.grams,
      masks: targets.masks,
      styleScales: targets.styleScales,
      weights: lw,
    });
    return {
      loss: Math.abs(ours.loss - ref.loss) / Math.abs(ref.loss),
      grad: relativeError(ours.grad, ref.grad),
      ours,
    };
  } finally {
    await net.release();
  }
}

describe("ONNX loss gradient vs tfjs autodiff", () => {
  const narrow = randomVggWeights(7, NARROW);
  for (const pooling of ["max", "avg"] as const) {
    for (const [term, lw] of Object.entries(ONLY)) {
      it(`${term}, ${pooling} pooling (narrow VGG-19)`, async () => {
        const r = await compare(narrow, pooling, lw);
        expect(r.ours.loss).toBeGreaterThan(0);
        expect(r.loss).toBeLessThan(1e-4);
        expect(r.grad).toBeLessThan(1e-4);
      });
    }
  }

  it("flat regions (exact max-pool ties) send the gradient to one winner per window, as autodiff does", async () => {
    const h = 32;
    const w = 32;
    const net = await StyleNet.open(narrow, { pooling: "max", masked: [false], device: "cpu" });
    try {
      // Two flat halves: every 2x2 window inside a half is a four-way tie.
      const flat = Float32Array.from(
        { length: 3 * h * w },
        (_, i) => (i % w < w / 2 ? 40 : -30) + 10 * Math.floor(i / (h * w)),
      );
      const t = await net.features(randomImage(3 * h * w, 5), h, w);
      const targets: Targets = {
        content: t.content,
        grams: [t.grams],
        masks: [undefined],
        styleScales: [styleLayerScales(t.grams, t.grams)],
      };
      for (const lw of [ONLY.content, { content: 0, tv: 0, style: [1e3] }]) {
        const ours = await net.evaluate(flat, h, w, targets, lw);
        const ref = await tfLossAndGrad(flat, {
          convs: narrow.convs,
          pooling: "max",
          h,
          w,
          contentTarget: targets.content,
          grams: targets.grams,
          masks: targets.masks,
          styleScales: targets.styleScales,
          weights: lw,
        });
        expect(relativeError(ours.grad, ref.grad)).toBeLessThan(1e-4);
      }
    } finally {
      await net.release();
    }
  });

  it("all terms together, full-width VGG-19, max pooling", async () => {
    const r = await compare(randomVggWeights(3), "max", { content: 5, tv: 1e-3, style: [100, 50] });
    expect(r.loss).toBeLessThan(1e-4);
    expect(r.grad).toBeLessThan(1e-4);
  });
});
