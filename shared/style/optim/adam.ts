// Adam (Kingma & Ba), the optimiser of the style-transfer paper's later implementations.
// Learning rate is in pixel units of the 0..255 preprocessed image (jcjohnson's default 10).
// The vector work goes to a VectorOps (./vectors): JavaScript, or the GPU that holds the image.
import type { Evaluation, Objective, Optimizer, StepResult } from "./types";
import { hostOps, type VectorOps } from "./vectors";

export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** The most vectors an Adam holds at once (a GPU reserves them up front): x, m, v, the gradient, one spare. */
export const ADAM_VECTORS = 5;

export class Adam<V = Float32Array> implements Optimizer<V> {
  private readonly m: V;
  private readonly v: V;
  private t = 0;
  private current?: Evaluation<V>;
  private readonly lr: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly eps: number;
  private readonly ops: VectorOps<V>;

  /** `ops`: where the vectors live; by default x is a Float32Array and the work is JavaScript's. */
  constructor(
    readonly x: V,
    private readonly f: Objective<V>,
    opts: AdamOptions = {},
    ops?: VectorOps<V>,
  ) {
    this.ops = ops ?? hostOps<V>(x);
    this.m = this.ops.take();
    this.v = this.ops.take();
    this.ops.zero(this.m);
    this.ops.zero(this.v);
    this.lr = opts.lr ?? 10;
    this.b1 = opts.beta1 ?? 0.9;
    this.b2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
  }

  async step(): Promise<StepResult<V>> {
    let evals = 0;
    if (!this.current) {
      this.current = await this.f(this.x);
      evals++;
    }
    this.t++;
    const { b1, b2 } = this;
    this.ops.adam(this.x, this.current.grad, this.m, this.v, {
      lr: this.lr,
      beta1: b1,
      beta2: b2,
      eps: this.eps,
      c1: 1 - b1 ** this.t,
      c2: 1 - b2 ** this.t,
    });
    this.ops.release(this.current.grad);
    this.current = await this.f(this.x);
    return { at: this.current, evals: evals + 1, converged: false };
  }
}
