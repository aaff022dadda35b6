// The optimisers on functions with known minima.
import { describe, expect, it } from "vitest";
import { Adam } from "../../shared/style/optim/adam";
import { cubicMin, Lbfgs } from "../../shared/style/optim/lbfgs";
import { twoLoop } from "../../shared/style/optim/two-loop";
import type { Objective } from "../../shared/style/optim/types";

/** Rosenbrock in n dimensions: minimum 0 at (1, …, 1); a classic hard valley. */
const rosenbrock: Objective = async (x) => {
  let loss = 0;
  const grad = new Float32Array(x.length);
  for (let i = 0; i < x.length - 1; i++) {
    const a = x[i + 1] - x[i] * x[i];
    const b = 1 - x[i];
    loss += 100 * a * a + b * b;
    grad[i] += -400 * x[i] * a - 2 * b;
    grad[i + 1] += 200 * a;
  }
  return { loss, grad };
};

/** The textbook two-loop recursion (Nocedal & Wright, algorithm 7.4), one vector operation at a time. */
function textbookTwoLoop(g: Float32Array, s: Float32Array[], y: Float32Array[], rho: number[], hDiag: number) {
  const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, v, i) => sum + v * b[i], 0);
  const q = g.map((v) => -v);
  const alpha: number[] = [];
  for (let i = s.length - 1; i >= 0; i--) {
    alpha[i] = dot(s[i], q) * rho[i];
    for (let j = 0; j < q.length; j++) q[j] -= alpha[i] * y[i][j];
  }
  for (let j = 0; j < q.length; j++) q[j] *= hDiag;
  for (let i = 0; i < s.length; i++) {
    const beta = dot(y[i], q) * rho[i];
    for (let j = 0; j < q.length; j++) q[j] += (alpha[i] - beta) * s[i][j];
  }
  return q;
}

describe("two-loop recursion", () => {
  it("gives the textbook direction bit for bit, with g·d and max|d|", () => {
    const n = 257;
    const vec = (seed: number) =>
      Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed * 3.1) * (1 + (i % 5)));
    for (const k of [0, 1, 3, 10]) {
      const s = Array.from({ length: k }, (_, i) => vec(2 * i + 1));
      const y = Array.from({ length: k }, (_, i) => vec(2 * i + 2));
      const rho = s.map((si, i) => 1 / si.reduce((sum, v, j) => sum + v * y[i][j], 0));
      const g = vec(99);
      const d = new Float32Array(n);
      const { gtd, maxAbs } = twoLoop(g, s, y, rho, 0.37, d, new Float64Array(10));
      const want = textbookTwoLoop(g, s, y, rho, 0.37);
      expect(d).toEqual(want);
      expect(gtd).toBe(g.reduce((sum, v, i) => sum + v * want[i], 0));
      expect(maxAbs).toBe(want.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
    }
  });
});

describe("L-BFGS", () => {
  it("finds the Rosenbrock minimum, never increasing the loss", async () => {
    const x = Float32Array.from({ length: 6 }, (_, i) => (i % 2 ? 1.2 : -1.2));
    const opt = new Lbfgs(x, rosenbrock, { history: 10, maxLineSearch: 25 });
    let prev = Number.POSITIVE_INFINITY;
    let evals = 0;
    for (let i = 0; i < 200; i++) {
      const r = await opt.step();
      evals += r.evals;
      expect(r.at.loss).toBeLessThanOrEqual(prev);
      prev = r.at.loss;
      if (r.converged) break;
    }
    expect(prev).toBeLessThan(1e-6);
    for (const v of x) expect(v).toBeCloseTo(1, 2);
    expect(evals).toBeLessThan(400);
  });

  it("solves an ill-conditioned quadratic in few iterations (uses curvature history)", async () => {
    const scales = Float32Array.from({ length: 50 }, (_, i) => 1 + i * 20);
    const quad: Objective = async (x) => ({
      loss: x.reduce((s, v, i) => s + 0.5 * scales[i] * v * v, 0),
      grad: x.map((v, i) => scales[i] * v),
    });
    const x = new Float32Array(50).fill(1);
    const opt = new Lbfgs(x, quad, { history: 20 });
    let loss = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 60 && loss > 1e-8; i++) loss = (await opt.step()).at.loss;
    expect(loss).toBeLessThan(1e-8);
  });

  it("decreaseOnly: one evaluation for every step that decreases enough, still converging", async () => {
    const run = async (decreaseOnly: boolean) => {
      const x = Float32Array.from({ length: 6 }, (_, i) => (i % 2 ? 1.2 : -1.2));
      const opt = new Lbfgs(x, rosenbrock, { maxLineSearch: 25, decreaseOnly });
      let evals = 0;
      let loss = Number.POSITIVE_INFINITY;
      let single = 0;
      for (let i = 0; i < 30; i++) {
        const r = await opt.step();
        expect(r.at.loss).toBeLessThanOrEqual(loss);
        evals += r.evals;
        if (r.evals === 1) single++;
        loss = r.at.loss;
      }
      return { evals, loss, single };
    };
    const wolfe = await run(false);
    const armijo = await run(true);
    expect(armijo.single).toBeGreaterThan(wolfe.single);
    expect(armijo.evals / 30).toBeLessThan(wolfe.evals / 30);
    expect(armijo.loss).toBeLessThan(1); // from 24.2 at the start: it still descends the valley
  });

  it("reuses its vectors without ever sharing one, also when steps go on after convergence", async () => {
    // A minimum of 1, not 0: near it the predicted decrease falls below the tolerance and the
    // step returns early, before its line search.
    const quad: Objective = async (x) => ({
      loss: 1 + x.reduce((sum, v, i) => sum + (i + 1) * v * v, 0),
      grad: x.map((v, i) => 2 * (i + 1) * v),
    });
    const opt = new Lbfgs(Float32Array.of(3, -2, 1, 5), quad, { history: 3 });
    const held = opt as unknown as { s: Float32Array[]; y: Float32Array[]; ops: { spare: Float32Array[] } };
    let early = 0;
    for (let i = 0; i < 40; i++) if ((await opt.step()).converged) early++;
    expect(early).toBeGreaterThan(0);
    const all = [...held.s, ...held.y, ...held.ops.spare];
    expect(new Set(all).size).toBe(all.length);
  });

  it("the first step moves the steepest variable by firstStep however small the gradient is", async () => {
    // A loss normalised to ~1 over many pixels has a tiny gradient; the first step must not be capped.
    const tiny: Objective = async (x) => ({
      loss: x.reduce((s, v) => s + 1e-9 * (v - 100) ** 2, 0),
      grad: x.map((v) => 2e-9 * (v - 100)),
    });
    const x = new Float32Array(4);
    x[1] = 50;
    await new Lbfgs(x, tiny, { firstStep: 8, decreaseOnly: true }).step();
    expect(x[0]).toBeCloseTo(8, 3); // the steepest (farthest from 100) moved by 8
    expect(x[1]).toBeCloseTo(54, 3); // the others in proportion
  });

  it("initialScale: a known curvature scale makes the first step a full Newton step", async () => {
    const lambda = 5;
    const quad: Objective = async (x) => ({
      loss: x.reduce((s, v) => s + 0.5 * lambda * (v - 3) ** 2, 0),
      grad: x.map((v) => lambda * (v - 3)),
    });
    const x = new Float32Array(8);
    const opt = new Lbfgs(x, quad, { firstStep: 0.01, decreaseOnly: true, initialScale: 1 / lambda });
    const r = await opt.step();
    expect(r.evals).toBe(2); // the start, then one trial: accepted at once
    for (const v of x) expect(v).toBeCloseTo(3, 5);
  });

  it("curvatureScale: unknown until a curvature pair is measured, then sᵀy/yᵀy", async () => {
    const lambda = 5;
    const quad: Objective = async (x) => ({
      loss: x.reduce((s, v) => s + 0.5 * lambda * (v - 3) ** 2, 0),
      grad: x.map((v) => lambda * (v - 3)),
    });
    const opt = new Lbfgs(new Float32Array(8), quad, { firstStep: 1, decreaseOnly: true });
    expect(opt.curvatureScale).toBeUndefined();
    await opt.step();
    expect(opt.curvatureScale).toBeUndefined(); // one point so far: no pair
    await opt.step();
    expect(opt.curvatureScale).toBeCloseTo(1 / lambda, 6);
  });

  it("cubic interpolation finds the minimum of a cubic", () => {
    // f(t) = (t-2)^2 on [0, 5]: from f, f' at 0 and 5 the minimiser is exactly 2.
    expect(cubicMin(0, 4, -4, 5, 9, 6, 0, 5)).toBeCloseTo(2, 9);
    // Bounds are honoured.
    expect(cubicMin(0, 4, -4, 5, 9, 6, 3, 5)).toBe(3);
  });
});

describe("Adam", () => {
  it("descends Rosenbrock", async () => {
    const x = Float32Array.from([-1.2, 1, -1.2, 1]);
    const opt = new Adam(x, rosenbrock, { lr: 0.02 });
    const first = (await opt.step()).at.loss;
    let last = first;
    for (let i = 0; i < 2000; i++) last = (await opt.step()).at.loss;
    expect(last).toBeLessThan(first / 100);
  });
});
