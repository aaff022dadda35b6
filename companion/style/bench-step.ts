// One style step's inputs for the benchmarks, and `bench style --check`: a GPU's loss and gradient
// against the CPU engine's on the same inputs, so that the one run on a real GPU also proves it
// computes the same thing there (the tests can only show it on SwiftShader).
import { Lbfgs } from "../../shared/style/optim/lbfgs";
import { HostVectors, type VectorOps } from "../../shared/style/optim/vectors";
import type { Pooling } from "../../shared/style/vgg";
import type { DeviceName } from "./devices";
import { styleLayerScales } from "./graph/loss";
import { noiseNetwork } from "./pixels";
import { type Convolutions, type LossNet, type LossWeights, openStyleNet, type Targets } from "./session";
import type { VggWeights } from "./vgg-weights";

/** One step's inputs at size × size: a noise image, and targets from two more noise images. */
export async function stepInputs(net: LossNet, size: number) {
  const x = noiseNetwork(size, size, 1);
  const content = await net.features(noiseNetwork(size, size, 2), size, size);
  const style = await net.features(noiseNetwork(size, size, 3), size, size);
  const targets: Targets = {
    content: content.content,
    grams: [style.grams],
    masks: [undefined],
    styleScales: [styleLayerScales(style.grams, content.grams)],
  };
  const lw: LossWeights = { content: 1, tv: 3e-4, style: [30] };
  return { x, targets, lw };
}

/** The tests' tolerance for the WebGPU engine against the CPU's (relative). */
export const AGREE_WITHIN = 1e-3;

export interface Agreement {
  device: DeviceName;
  /** Where the GPU net really ran (a fallback would compare the CPU with itself). */
  ranOn: DeviceName;
  adapter?: string;
  size: number;
  pooling: Pooling;
  /** |loss − CPU's| / |CPU's|. */
  loss: number;
  /** ‖gradient − CPU's‖ / ‖CPU's‖. */
  gradient: number;
}

/** One evaluation at size × size on `device` and on the CPU, from the same image and targets. */
export async function agreement(
  weights: VggWeights,
  device: DeviceName,
  size: number,
  pooling: Pooling,
  convolutions?: Convolutions,
): Promise<Agreement> {
  const opts = { pooling, masked: [false], device, convolutions };
  const cpu = await openStyleNet(weights, { ...opts, device: "cpu" });
  try {
    const { x, targets, lw } = await stepInputs(cpu, size);
    const want = await cpu.evaluate(x, size, size, targets, lw);
    const gpu = await openStyleNet(weights, opts);
    try {
      const got = await gpu.evaluate(x, size, size, targets, lw);
      let diff = 0;
      let norm = 0;
      for (let i = 0; i < want.grad.length; i++) {
        diff += (got.grad[i] - want.grad[i]) ** 2;
        norm += want.grad[i] ** 2;
      }
      return {
        device,
        ranOn: gpu.device,
        adapter: gpu.adapter,
        size,
        pooling,
        loss: Math.abs(got.loss - want.loss) / Math.abs(want.loss),
        gradient: Math.sqrt(diff / norm),
      };
    } finally {
      await gpu.release();
    }
  } finally {
    await cpu.release();
  }
}

/** Ran where asked, and within the tests' tolerance. */
export const agrees = (a: Agreement) => a.ranOn === a.device && a.loss <= AGREE_WITHIN && a.gradient <= AGREE_WITHIN;

/** One line for the log: the differences, and whether they are within the tests' tolerance. */
export function agreementLine(a: Agreement): string {
  const where =
    a.ranOn === a.device ? `${a.device}${a.adapter ? ` (${a.adapter})` : ""}` : `${a.device} (fell back to ${a.ranOn})`;
  const ok = agrees(a);
  return (
    `${where} vs cpu, ${a.size} px, ${a.pooling} pooling: loss ${a.loss.toExponential(1)}, ` +
    `gradient ${a.gradient.toExponential(1)} relative — ${ok ? "agrees" : `DIFFERS (tolerance ${AGREE_WITHIN})`}`
  );
}

/**
 * The optimiser's own work per L-BFGS step at size × size (history full), in milliseconds: the
 * vector passes and read-backs a step adds to its evaluation, with the vectors where `ops` keeps
 * them (JavaScript by default, or a GPU's). On a chained Rosenbrock valley (it takes hundreds of
 * steps, so every timed step is a real one), the objective's own time, transfers included, subtracted.
 */
export async function optimiserMs<V>(size: number, ops?: VectorOps<V>): Promise<number> {
  const n = 3 * size * size;
  const vectors = ops ?? (new HostVectors(n) as unknown as VectorOps<V>);
  let objectiveMs = 0;
  const objective = async (xv: V) => {
    const t = performance.now();
    const x = await vectors.toHost(xv);
    const grad = new Float32Array(n);
    let loss = 0;
    for (let i = 0; i < n - 1; i++) {
      const a = x[i + 1] - x[i] * x[i];
      const b = 1 - x[i];
      loss += 100 * a * a + b * b;
      grad[i] += -400 * x[i] * a - 2 * b;
      grad[i + 1] += 200 * a;
    }
    const g = vectors.fromHost(grad);
    await vectors.toHost(g); // the upload is done before the clock stops (on the host: nothing)
    objectiveMs += performance.now() - t;
    return { loss, grad: g };
  };
  const x = vectors.fromHost(Float32Array.from({ length: n }, (_, i) => (i % 2 ? 1.2 : -1.2)));
  const opt = new Lbfgs(x, objective, { decreaseOnly: true }, vectors);
  for (let i = 0; i < 11; i++) await opt.step(); // the history fills
  const steps = 8;
  objectiveMs = 0;
  const t = performance.now();
  for (let i = 0; i < steps; i++) await opt.step();
  return (performance.now() - t - objectiveMs) / steps;
}
