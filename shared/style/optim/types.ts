// The contract between the style engine and its optimisers: minimise f over a vector, a
// Float32Array on the host or a buffer on the GPU (see ./vectors).

export interface Evaluation<V = Float32Array> {
  loss: number;
  /** A vector of its own per call: the optimiser keeps it, and releases it to its VectorOps. */
  grad: V;
  terms?: Record<string, number>;
}

export type Objective<V = Float32Array> = (x: V) => Promise<Evaluation<V>>;

export interface StepResult<V = Float32Array> {
  /** The evaluation at the new point. */
  at: Evaluation<V>;
  /** Objective evaluations this step took (L-BFGS line searches may take several). */
  evals: number;
  /** True when the optimiser cannot make progress any more (converged or stalled). */
  converged: boolean;
}

export interface Optimizer<V = Float32Array> {
  /** The variable, updated in place by `step`. */
  readonly x: V;
  step(): Promise<StepResult<V>>;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
