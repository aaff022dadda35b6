// Adam (Kingma & Ba), the optimiser of the style-transfer paper's later implementations.
// Learning rate is in pixel units of the 0..255 preprocessed image (jcjohnson's default 10).
import type { Evaluation, Objective, Optimizer, StepResult } from "./types";

export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class Adam implements Optimizer {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;
  private current?: Evaluation;
  private readonly lr: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly eps: number;

  constructor(
    readonly x: Float32Array,
    private readonly f: Objective,
    opts: AdamOptions = {},
  ) {
    this.m = new Float32Array(x.length);
    this.v = new Float32Array(x.length);
    this.lr = opts.lr ?? 10;
    this.b1 = opts.beta1 ?? 0.9;
    this.b2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
  }

  async step(): Promise<StepResult> {
    let evals = 0;
    if (!this.current) {
      this.current = await this.f(this.x);
      evals++;
    }
    const g = this.current.grad;
    this.t++;
    const { m, v, x, b1, b2 } = this;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    for (let i = 0; i < x.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      x[i] -= (this.lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + this.eps);
    }
    this.current = await this.f(x);
    return { at: this.current, evals: evals + 1, converged: false };
  }
}
