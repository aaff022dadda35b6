// runStyle end to end on tiny images with deterministic random weights: the loss goes down,
// scales and sizes are right, colours are preserved on request, region masks steer each region
// towards its own style, and cancelling works.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { StyleOptionsSchema, type StyleOptions } from "../../shared/protocol";
import type { RgbaImage } from "../../companion/image";
import { runStyle, type StyleInputs, type StyleProgress } from "../../companion/style/engine";
import { toNetwork } from "../../companion/style/pixels";
import { StyleNet } from "../../companion/style/session";
import { loadVggWeights } from "../../companion/style/vgg-weights";
import { checker, coldStripes, crop, meanChroma, picture, warmContent } from "./images";

beforeAll(() => {
  process.env.STYLIZE_CACHE_DIR = mkdtempSync(join(tmpdir(), "stylize-engine-"));
});

const opts = (o: Partial<StyleOptions>) =>
  v.parse(StyleOptionsSchema, { device: "cpu", scales: 1, previewEvery: 0, ...o });

async function run(inputs: StyleInputs, o: Partial<StyleOptions>, extra: { signal?: AbortSignal } = {}) {
  const progress: StyleProgress[] = [];
  const previews: RgbaImage[] = [];
  const result = await runStyle(inputs, {
    options: opts(o),
    weights: "random:1",
    onProgress: (p) => progress.push(p),
    onPreview: (img) => {
      previews.push(img);
    },
    ...extra,
  });
  return { result, progress, previews };
}

describe("runStyle", () => {
  it("L-BFGS lowers the loss at every iteration", async () => {
    const { result, progress } = await run(
      { content: warmContent(64, 64), styles: [coldStripes(64, 64)] },
      { size: 64, iters: 12 },
    );
    const losses = progress.map((p) => p.loss);
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThanOrEqual(losses[i - 1] * (1 + 1e-6));
    expect(losses.at(-1)!).toBeLessThan(losses[0] * 0.5);
    expect(result.iters).toBe(12);
    expect(progress[0].terms).toHaveProperty("style");
    expect(result.image.width).toBe(64);
  });

  it("a loss that is not a number stops the job with a plain error, not a silent convergence", async () => {
    const evaluate = StyleNet.prototype.evaluate;
    const spy = vi.spyOn(StyleNet.prototype, "evaluate").mockImplementation(async function (this: StyleNet, ...a) {
      return { ...(await evaluate.apply(this, a)), loss: Number.NaN };
    });
    try {
      await expect(
        run({ content: warmContent(64, 64), styles: [coldStripes(64, 64)] }, { size: 64, iters: 3 }),
      ).rejects.toThrow("the style loss is not a number (NaN) on the CPU: are the weights damaged?");
    } finally {
      spy.mockRestore();
    }
  });

  it("Adam lowers the loss too", async () => {
    const { progress } = await run(
      { content: warmContent(64, 64), styles: [coldStripes(64, 64)] },
      { size: 64, iters: 15, optimizer: "adam" },
    );
    expect(progress.at(-1)!.loss).toBeLessThan(progress[0].loss * 0.8);
  });

  it("multi-scale goes coarse to fine and returns the requested size and aspect", async () => {
    const content = warmContent(120, 90);
    const { result, progress, previews } = await run(
      { content, styles: [coldStripes(64, 64)] },
      { size: 256, iters: 8, scales: 2 },
    );
    expect(progress[0].scales).toBe(2);
    // Most iterations at the cheap coarse scale (ITER_RATIO times those of the finer one).
    expect(progress.map((p) => p.scale)).toEqual([1, 1, 1, 1, 1, 1, 2, 2]);
    // The preview at the scale change is the coarse result: half the size, sides multiples of 16.
    expect(previews[0].width).toBe(128);
    expect(previews[0].height).toBe(96);
    expect([result.image.width, result.image.height]).toEqual([256, 192]);
    expect(result.iters).toBe(8);
    expect(result.scales.map((s) => [s.width, s.height, s.iters])).toEqual([
      [128, 96, 6],
      [256, 192, 2],
    ]);
    expect(result.scales.reduce((a, s) => a + s.evals, 0)).toBe(result.evals);
  });

  it("--preserve-colors keeps the content's chroma; without it the style's colours come through", async () => {
    const inputs = { content: warmContent(64, 64), styles: [coldStripes(64, 64)] };
    const o = { size: 64, iters: 8, styleWeight: 1e4 };
    const kept = (await run(inputs, { ...o, preserveColors: true })).result.image;
    const free = (await run(inputs, o)).result.image;
    const c = meanChroma(inputs.content);
    const k = meanChroma(kept);
    const f = meanChroma(free);
    const dist = (a: { i: number; q: number }) => Math.hypot(a.i - c.i, a.q - c.q);
    expect(dist(k)).toBeLessThan(3);
    expect(dist(f)).toBeGreaterThan(3 * dist(k) + 5);
  });

  it("with two styles and complementary masks, each region's Gram moves towards its own style", async () => {
    const w = 128;
    const h = 64;
    const content = picture(w, h, () => [128, 128, 128]).data.map((_, i) => 100 + ((i * 7919) % 50));
    const contentImg = { width: w, height: h, data: content.map((v, i) => (i % 4 === 3 ? 255 : v)) };
    const left = picture(w, h, (x) => (x < w / 2 ? [255, 255, 255] : [0, 0, 0]));
    const right = picture(w, h, (x) => (x < w / 2 ? [0, 0, 0] : [255, 255, 255]));
    const styles = [checker(64, 64), coldStripes(64, 64)];
    const { result } = await run(
      { content: contentImg, styles, masks: [left, right] },
      { size: w, iters: 10, styleWeight: 1e4 },
    );

    const weights = await loadVggWeights("random:1");
    const net = await StyleNet.open(weights, { pooling: "max", masked: [false], device: "cpu" });
    try {
      const grams = async (img: RgbaImage) => (await net.features(toNetwork(img), img.height, img.width)).grams;
      // Gram distance relative to the target's size per layer, as the loss measures it.
      const dist = (a: Float32Array[], b: Float32Array[]) =>
        a.reduce(
          (s, g, l) => s + g.reduce((t, x, j) => t + (x - b[l][j]) ** 2, 0) / b[l].reduce((t, x) => t + x * x, 0),
          0,
        );
      const [s0, s1] = await Promise.all(styles.map(grams));
      const before = [await grams(crop(contentImg, 0, 0, 64, 64)), await grams(crop(contentImg, 64, 0, 64, 64))];
      const after = [await grams(crop(result.image, 0, 0, 64, 64)), await grams(crop(result.image, 64, 0, 64, 64))];
      // Each half got closer to its own style, and is closer to it than to the other one.
      expect(dist(after[0], s0)).toBeLessThan(dist(before[0], s0));
      expect(dist(after[1], s1)).toBeLessThan(dist(before[1], s1));
      expect(dist(after[0], s0)).toBeLessThan(dist(after[0], s1));
      expect(dist(after[1], s1)).toBeLessThan(dist(after[1], s0));
    } finally {
      await net.release();
    }
  });

  it("a finer scale starts with the content's detail that the coarser scale could not hold", async () => {
    // With no style and no smoothing the content is the optimum: 256 px from a 128 px scale must give
    // back the content's 1-pixel checker, not its blurred enlargement.
    const content = checker(256, 256, 1);
    const { result } = await run(
      { content, styles: [coldStripes(64, 64)] },
      { size: 256, scales: 2, iters: 4, styleWeight: 0, tvWeight: 0 },
    );
    expect(result.scales.map((s) => s.width)).toEqual([128, 256]);
    let diff = 0;
    for (let i = 0; i < content.data.length; i++)
      if (i % 4 !== 3) diff += Math.abs(result.image.data[i] - content.data[i]);
    expect(diff / ((content.data.length * 3) / 4)).toBeLessThan(3); // levels of 255; enlarged alone, it is ~70
  });

  it("a mid-grey style (no features at all) cannot blow the style weight up", async () => {
    // Each style layer is measured relative to its Gram plus the content's, so at the content the
    // style term is at most 2 × its weight, whatever the style; relative to the style's Gram alone,
    // this all-zero one made it ~10⁸ × larger.
    const grey = picture(64, 64, () => [124, 117, 104]); // ≈ the ImageNet mean: zero network input
    const { progress } = await run({ content: warmContent(64, 64), styles: [grey] }, { size: 64, iters: 1 });
    expect(progress[0].terms.style).toBeGreaterThan(0);
    expect(progress[0].terms.style).toBeLessThanOrEqual(2 * v.parse(StyleOptionsSchema, {}).styleWeight);
  });

  it("stops with an AbortError when cancelled", async () => {
    const ac = new AbortController();
    const job = runStyle(
      { content: warmContent(64, 64), styles: [coldStripes(64, 64)] },
      {
        options: opts({ size: 64, iters: 500 }),
        weights: "random:1",
        signal: ac.signal,
        onProgress: (p) => p.iter === 2 && ac.abort(),
      },
    );
    await expect(job).rejects.toMatchObject({ name: "AbortError" });
  });

  it("refuses missing weights with the command to run, and bad blends/masks clearly", async () => {
    const inputs = { content: warmContent(64, 64), styles: [coldStripes(64, 64)] };
    await expect(runStyle(inputs, { options: opts({}), weights: "/nonexistent/vgg19.h5" })).rejects.toMatchObject({
      code: "weights-missing",
      message: expect.stringContaining("npx stylize weights fetch"),
    });
    await expect(runStyle(inputs, { options: opts({ styleBlend: [1, 2] }), weights: "random" })).rejects.toThrow(
      /style-blend/,
    );
    const black = picture(64, 64, () => [0, 0, 0]);
    await expect(
      runStyle({ ...inputs, masks: [black] }, { options: opts({ size: 64, iters: 1 }), weights: "random" }),
    ).rejects.toThrow(/mask for style 1 is empty/);
  });
});
