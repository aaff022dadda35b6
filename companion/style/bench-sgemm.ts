// The yardstick for the CPU path: how many GFLOP/s one style step reaches against this machine's
// own SGEMM rate (ONNX Runtime's MatMul, the same threads), since a step is mostly convolutions,
// which are matrix products. Goal: ≥ 0.85× (issue: "the CPU path keeps its speed").
import { availableParallelism } from "node:os";
import * as ort from "onnxruntime-node";
import { GraphBuilder } from "./graph/onnx-builder";

/** A conv3-like product (conv3 of a 512 px image as a GEMM): 128×128 pixels × (256·9) × 256 channels, ≈ 19 GFLOP. */
const M = 128 * 128;
const K = 256 * 9;
const N = 256;

/** This machine's SGEMM rate in GFLOP/s: the best of three MatMuls after a warm-up. */
export const SGEMM_SHAPE = `${M}×${K}×${N}`;

export async function sgemmGflops(): Promise<number> {
  const g = new GraphBuilder("sgemm");
  const a = g.input("a", [M, K]);
  const b = g.floats("b", [K, N], new Float32Array(K * N).fill(0.5));
  g.output(g.op("MatMul", [a, b]), "c", [M, N]);
  const session = await ort.InferenceSession.create(g.encode(), {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    intraOpNumThreads: availableParallelism(),
  });
  try {
    const input = new ort.Tensor("float32", new Float32Array(M * K).fill(0.25), [M, K]);
    await session.run({ a: input });
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await session.run({ a: input });
      best = Math.min(best, performance.now() - t);
    }
    return (2 * M * K * N) / best / 1e6;
  } finally {
    await session.release();
  }
}
