// A few L-BFGS steps entirely on a GPU (evaluation and vectors), run alike by Node's Dawn and by
// Chromium's navigator.gpu (webgpu-page.ts): the optimiser's kernels work in the plugin iframe too.
import { Lbfgs } from "../../shared/style/optim/lbfgs";
import type { LossWeights, Targets } from "../../shared/style/vgg";
import type { WebGpuStyleNet } from "../../shared/style/webgpu/net";
import { GpuVectors } from "../../shared/style/webgpu/vectors";

export const LBFGS_STEPS = 4;

/** The loss after each of `steps` L-BFGS steps from x. */
export async function lbfgsOnGpu(
  net: WebGpuStyleNet,
  x: Float32Array,
  h: number,
  w: number,
  targets: Targets,
  lw: LossWeights,
  steps: number,
): Promise<number[]> {
  const ops = await GpuVectors.create(net.device, x.length, 5, 0);
  try {
    const f = async (xv: GPUBuffer) => {
      const grad = ops.take();
      return { ...(await net.evaluateOnGpu(xv, grad, h, w, targets, lw)), grad };
    };
    const opt = new Lbfgs(ops.fromHost(x), f, { history: 5, firstStep: 8, decreaseOnly: true }, ops);
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) losses.push((await opt.step()).at.loss);
    return losses;
  } finally {
    ops.dispose();
  }
}
