// The WebGPU style engine in headless Chromium's navigator.gpu (SwiftShader) gives the numbers it
// gives in Node (Dawn): the same code can run inside the plugin iframe.
import "../style/swiftshader"; // Node's side runs on SwiftShader too
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { WebGpuStyleNet } from "../../shared/style/webgpu/net";
import { TILE_CANDIDATES } from "../../shared/style/webgpu/tiles";
import { randomVggWeights } from "../../companion/style/vgg-weights";
import { openWebGpu } from "../../companion/style/webgpu-device";
import { NARROW, randomImage } from "../style/narrow";
import { relativeError } from "../style/tf-reference";
import { LBFGS_STEPS, lbfgsOnGpu } from "./gpu-steps";
import type { PageJob } from "./webgpu-page";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!existsSync(CHROMIUM) && process.env.CI === "true") throw new Error(`Chromium is missing at ${CHROMIUM}`);

async function servePage(): Promise<{ url: string; server: Server }> {
  const js = (
    await build({
      entryPoints: ["test/e2e/webgpu-page.ts"],
      bundle: true,
      write: false,
      format: "iife",
      target: "es2022",
    })
  ).outputFiles[0].text;
  const server = createServer((req, res) => {
    if (req.url === "/page.js") res.writeHead(200, { "content-type": "text/javascript" }).end(js);
    else res.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><script src="/page.js"></script>');
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  // A secure context (loopback over http is one): navigator.gpu exists only there.
  return { url: `http://localhost:${(server.address() as { port: number }).port}/`, server };
}

describe.skipIf(!existsSync(CHROMIUM))("WebGPU style engine in the browser", () => {
  // The browser computes its convolutions by Winograd, Node's directly: both kinds of kernel in one comparison.
  it("gives the numbers Node's Dawn gives (features, loss, gradient, L-BFGS steps on the GPU; max pooling, a masked style; Winograd convolutions)", async () => {
    const h = 32;
    const w = 32;
    const weights = randomVggWeights(5, NARROW);
    const style = randomImage(3 * h * w, 2);
    const { device } = await openWebGpu();
    const node = WebGpuStyleNet.create(device, weights.convs, { pooling: "max", tiles: TILE_CANDIDATES[0] });
    const styleGrams = (await node.features(style, h, w)).grams;
    const job: PageJob = {
      convs: weights.convs.map((c) => ({ ...c, kernel: Array.from(c.kernel), bias: Array.from(c.bias) })),
      pooling: "max",
      tiles: TILE_CANDIDATES[0],
      winograd: { wide: true, deep: true },
      h,
      w,
      image: Array.from(randomImage(3 * h * w, 1)),
      x: Array.from(randomImage(3 * h * w, 3)),
      styleGrams: styleGrams.map((g) => Array.from(g)),
      mask: Array.from({ length: h * w }, (_, i) => (i % w) / (w - 1)),
      lw: { content: 1, tv: 0.1, style: [100] },
    };
    const own = await node.features(Float32Array.from(job.image), h, w);
    const targets = {
      content: own.content,
      grams: [styleGrams],
      masks: [Float32Array.from(job.mask)],
      styleScales: [[0.1, 0.2, 0.3, 0.2, 0.1]],
    };
    const expected = await node.evaluate(Float32Array.from(job.x), h, w, targets, job.lw);
    const lbfgs = await lbfgsOnGpu(node, Float32Array.from(job.x), h, w, targets, job.lw, LBFGS_STEPS);
    node.dispose();

    const { url, server } = await servePage();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--enable-unsafe-webgpu",
        "--enable-features=Vulkan",
        "--use-vulkan=swiftshader",
      ],
    });
    try {
      const page = await browser.newPage();
      await page.goto(url);
      const got = (await page.evaluate(
        (j) => (window as unknown as { runEngine(j: PageJob): Promise<unknown> }).runEngine(j),
        job,
      )) as {
        adapter: string;
        grams: number[][];
        loss: number;
        terms: Record<string, number>;
        grad: number[];
        lbfgs: number[];
      };
      expect(got.adapter).toMatch(/swiftshader/i);
      for (const [l, g] of got.grams.entries())
        expect(relativeError(Float32Array.from(g), own.grams[l])).toBeLessThan(1e-5);
      expect(Math.abs(got.loss - expected.loss) / expected.loss).toBeLessThan(1e-5);
      expect(relativeError(Float32Array.from(got.grad), expected.grad)).toBeLessThan(1e-5);
      // L-BFGS with its vectors on the GPU: the same losses, step by step, and they fall.
      expect(got.lbfgs).toHaveLength(LBFGS_STEPS);
      expect(lbfgs[LBFGS_STEPS - 1]).toBeLessThan(lbfgs[0]);
      for (const [i, loss] of got.lbfgs.entries()) expect(Math.abs(loss - lbfgs[i]) / lbfgs[i]).toBeLessThan(1e-4);
    } finally {
      await browser.close();
      server.close();
    }
  }, 180_000);
});
