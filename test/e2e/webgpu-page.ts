// Runs in headless Chromium: the shared WebGPU style engine on navigator.gpu, exactly as the plugin
// iframe would load it. The test passes plain arrays in and gets plain arrays back.
import type { ConvWeights, LossWeights, Targets } from "../../shared/style/vgg";
import type { Tiles } from "../../shared/style/webgpu/gemm";
import { styleDeviceLimits } from "../../shared/style/webgpu/limits";
import { WebGpuStyleNet } from "../../shared/style/webgpu/net";
import { LBFGS_STEPS, lbfgsOnGpu } from "./gpu-steps";

export interface PageJob {
  convs: { name: string; inC: number; outC: number; kernel: number[]; bias: number[] }[];
  pooling: "max" | "avg";
  tiles: Tiles;
  winograd: { wide: boolean; deep: boolean };
  h: number;
  w: number;
  image: number[];
  x: number[];
  styleGrams: number[][];
  mask: number[];
  lw: LossWeights;
}

async function runEngine(job: PageJob) {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error("no WebGPU adapter in this browser");
  const device = await adapter.requestDevice({ requiredLimits: styleDeviceLimits(adapter) });
  const convs: ConvWeights[] = job.convs.map((c) => ({
    ...c,
    kernel: Float32Array.from(c.kernel),
    bias: Float32Array.from(c.bias),
  }));
  const net = WebGpuStyleNet.create(device, convs, { pooling: job.pooling, tiles: job.tiles, winograd: job.winograd });
  const own = await net.features(Float32Array.from(job.image), job.h, job.w);
  const targets: Targets = {
    content: own.content,
    grams: [job.styleGrams.map((g) => Float32Array.from(g))],
    masks: [Float32Array.from(job.mask)],
    styleScales: [[0.1, 0.2, 0.3, 0.2, 0.1]],
  };
  const e = await net.evaluate(Float32Array.from(job.x), job.h, job.w, targets, job.lw);
  const lbfgs = await lbfgsOnGpu(net, Float32Array.from(job.x), job.h, job.w, targets, job.lw, LBFGS_STEPS);
  net.dispose();
  return {
    adapter: `${adapter.info.vendor} ${adapter.info.architecture}`,
    grams: own.grams.map((g) => Array.from(g)),
    loss: e.loss,
    terms: e.terms,
    grad: Array.from(e.grad),
    lbfgs,
  };
}

(window as unknown as { runEngine: typeof runEngine }).runEngine = runEngine;
