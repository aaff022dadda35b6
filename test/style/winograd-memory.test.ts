// A GPU with too little memory for Winograd's extra buffers (its weights, its scratch): the net
// gives Winograd up and runs the direct kernels, with the same results, and the job says so.
import { HAVE_SWIFTSHADER } from "./swiftshader"; // first: it points Vulkan at SwiftShader
import { describe, expect, it, vi } from "vitest";
import type { Targets } from "../../shared/style/vgg";
import { WebGpuStyleNet } from "../../shared/style/webgpu/net";
import { TILE_CANDIDATES } from "../../shared/style/webgpu/tiles";
import { randomVggWeights } from "../../companion/style/vgg-weights";
import { openWebGpu } from "../../companion/style/webgpu-device";
import { NARROW, randomImage } from "./narrow";
import { relativeError } from "./tf-reference";

// Out of memory, once, as WebGPU reports it: the work ran, and the error scope holds the error.
const oom = vi.hoisted(() => ({ next: false }));
vi.mock("../../shared/style/webgpu/limits", async (actual) => {
  const real = await actual<typeof import("../../shared/style/webgpu/limits")>();
  return {
    ...real,
    withErrorScopes: async <T>(device: GPUDevice, work: () => Promise<T>) => {
      const out = await real.withErrorScopes(device, work);
      if (oom.next) {
        oom.next = false;
        throw new real.GpuError("memory", "out of GPU memory");
      }
      return out;
    },
  };
});

describe.skipIf(!HAVE_SWIFTSHADER)("Winograd without the memory for it (SwiftShader)", () => {
  it("runs the direct kernels instead, with the same loss and gradient, and says so", async () => {
    const { device } = await openWebGpu();
    const weights = randomVggWeights(4, NARROW);
    const [h, w] = [32, 32];
    const nets = [false, true].map((on) =>
      WebGpuStyleNet.create(device, weights.convs, {
        pooling: "max",
        tiles: TILE_CANDIDATES[0],
        winograd: { wide: on, deep: on },
      }),
    );
    const [direct, wino] = nets;
    try {
      const x = randomImage(3 * h * w, 1);
      const f = await direct.features(randomImage(3 * h * w, 2), h, w);
      const t: Targets = { content: f.content, grams: [f.grams], masks: [undefined], styleScales: [[1, 1, 1, 1, 1]] };
      const lw = { content: 1, tv: 0.1, style: [10] };
      const want = await direct.evaluate(x, h, w, t, lw);
      oom.next = true;
      const got = await wino.evaluate(x, h, w, t, lw);
      expect(oom.next).toBe(false); // the first try did run out
      expect(wino.winogradDropped).toMatch(/too little memory for Winograd.*run directly/);
      expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThan(1e-6);
      expect(relativeError(got.grad, want.grad)).toBeLessThan(1e-6); // the same kernels: direct
      const { kernels } = await wino.profile(x, h, w, t, lw);
      expect(kernels.filter((k) => k.label === "block2_conv1 forward")).toHaveLength(1);
    } finally {
      for (const n of nets) n.dispose();
    }
  }, 120_000);
});
