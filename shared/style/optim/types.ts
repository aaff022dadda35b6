// The contract between the style engine and its optimisers: minimise f over a flat Float32Array.

export interface Evaluation {
  loss: number;
  /** A fresh array per call (the optimiser keeps references). */
  grad: Float32Array;
  terms?: Record<string, number>;
}

export type Objective = (x: Float32Array) => Promise<Evaluation>;

export interface StepResult {
  /** The evaluation at the new point. */
  at: Evaluation;
  /** Objective evaluations this step took (L-BFGS line searches may take several). */
  evals: number;
  /** True when the optimiser cannot make progress any more (converged or stalled). */
  converged: boolean;
}

export interface Optimizer {
  /** The variable, updated in place by `step`. */
  readonly x: Float32Array;
  step(): Promise<StepResult>;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** y += a·x */
export function axpy(a: number, x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < y.length; i++) y[i] += a * x[i];
}
