// The optimisers' vector work on the GPU (shared/style/webgpu/vectors) against JavaScript's
// (shared/style/optim/vectors), on SwiftShader: each operation, then whole L-BFGS and Adam runs
// whose every step matches the host optimiser's.
import { HAVE_SWIFTSHADER } from "./swiftshader"; // first: it points Vulkan at SwiftShader
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ADAM_VECTORS, Adam } from "../../shared/style/optim/adam";
import { Lbfgs, lbfgsVectors } from "../../shared/style/optim/lbfgs";
import type { Evaluation, Optimizer } from "../../shared/style/optim/types";
import { HostVectors } from "../../shared/style/optim/vectors";
import { GpuVectors } from "../../shared/style/webgpu/vectors";
import { openWebGpu } from "../../companion/style/webgpu-device";

// Not a multiple of the workgroup size, and more elements than one pass has threads (512 × 256).
const N = 150_001;
const vec = (seed: number) =>
  Float32Array.from({ length: N }, (_, i) => Math.sin(i * 1.7 + seed * 3.1) * (1 + (i % 5)));
const close = (got: number, want: number, tol = 1e-5) =>
  expect(Math.abs(got - want) / Math.max(Math.abs(want), 1e-30)).toBeLessThan(tol);
const maxRel = (a: Float32Array, b: Float32Array) => {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
};

describe.skipIf(!HAVE_SWIFTSHADER)("optimiser vectors on the GPU (SwiftShader)", () => {
  let device: GPUDevice;
  let gpu: GpuVectors;
  const host = new HostVectors(N);

  beforeAll(async () => {
    ({ device } = await openWebGpu());
    gpu = await GpuVectors.create(device, N, 10, 4);
  }, 60_000);

  afterAll(() => gpu?.dispose());

  it("dot, max |a|, a·a and x + t·d", async () => {
    const [a, b] = [vec(1), vec(2)];
    const [ga, gb] = [gpu.fromHost(a), gpu.fromHost(b)];
    close(await gpu.dot(ga, gb), await host.dot(a, b));
    close(await gpu.dot(ga, ga), await host.dot(a, a));
    expect(await gpu.maxAbs(ga)).toBe(await host.maxAbs(a));
    const [out, want] = [gpu.take(), new Float32Array(N)];
    gpu.along(out, ga, -0.3, gb);
    host.along(want, a, -0.3, b);
    expect(maxRel(await gpu.toHost(out), want)).toBeLessThan(1e-6);
    gpu.along(ga, ga, 2, gb); // in place
    host.along(a, a, 2, b);
    expect(maxRel(await gpu.toHost(ga), a)).toBeLessThan(1e-6);
  });

  it('a sum that is not a number is the GPU\'s error ("wrong"), not a value for the optimiser', async () => {
    const a = vec(6);
    a[7] = Number.NaN;
    const [ga, gb] = [gpu.fromHost(a), gpu.fromHost(vec(7))];
    const wrong = { name: "GpuError", kind: "wrong" };
    await expect(gpu.dot(ga, gb)).rejects.toMatchObject(wrong);
    await expect(gpu.dot(ga, ga)).rejects.toMatchObject(wrong);
    await expect(gpu.twoLoop(ga, [], [], [], 1, gpu.take())).rejects.toMatchObject(wrong);
    expect(await gpu.dot(gb, gb)).toBeGreaterThan(0); // still working
  });

  it("a curvature pair: s ← t·s, y ← g − prev, with y·s and y·y", async () => {
    const [s, g, prev] = [vec(3), vec(4), vec(5)];
    const [gs, gg, gp, gy] = [gpu.fromHost(s), gpu.fromHost(g), gpu.fromHost(prev), gpu.take()];
    const y = new Float32Array(N);
    const want = await host.curvaturePair(s, 0.7, g, prev, y);
    const got = await gpu.curvaturePair(gs, 0.7, gg, gp, gy);
    close(got.ys, want.ys);
    close(got.yy, want.yy);
    expect(maxRel(await gpu.toHost(gs), s)).toBeLessThan(1e-6);
    expect(maxRel(await gpu.toHost(gy), y)).toBeLessThan(1e-6);
  });

  it("the two-loop direction, g·d and max |d| for 0, 1, 3 and 10 pairs", async () => {
    for (const k of [0, 1, 3, 10]) {
      const s = Array.from({ length: k }, (_, i) => vec(2 * i + 11));
      // y close to a positive multiple of s, as real curvature pairs are (ρ > 0, a tame direction).
      const y = s.map((si, i) => si.map((v, j) => (1 + i) * v + 0.1 * Math.cos(j * (i + 2))));
      const rho = s.map((si, i) => 1 / si.reduce((sum, v, j) => sum + v * y[i][j], 0));
      const g = vec(99);
      const d = new Float32Array(N);
      const want = await host.twoLoop(g, s, y, rho, 0.37, d);
      const gd = gpu.take();
      const got = await gpu.twoLoop(
        gpu.fromHost(g),
        s.map((v) => gpu.fromHost(v)),
        y.map((v) => gpu.fromHost(v)),
        rho,
        0.37,
        gd,
      );
      close(got.gtd, want.gtd, 1e-4);
      close(got.maxAbs, want.maxAbs, 1e-4);
      expect(maxRel(await gpu.toHost(gd), d)).toBeLessThan(1e-4);
    }
  });

  it("a new pair and the two-loop over it in one round trip equal the two, one after the other", async () => {
    for (const k of [1, 4]) {
      const old = Array.from({ length: k - 1 }, (_, i) => vec(2 * i + 31));
      const oldY = old.map((si, i) => si.map((v, j) => (1 + i) * v + 0.1 * Math.cos(j * (i + 2))));
      const rho = old.map((si, i) => 1 / si.reduce((sum, v, j) => sum + v * oldY[i][j], 0));
      // Inputs of their own per k, and the fused call first: no scalar left by an earlier call fits.
      const [dir, g, prev, t] = [vec(41 + k), vec(42 + 2 * k), vec(43 + 3 * k), 0.3 + 0.1 * k];
      const up = (vs: Float32Array[]) => vs.map((v) => gpu.fromHost(v));
      const [s2, y2, d2] = [gpu.fromHost(dir), gpu.take(), gpu.take()];
      const got = await gpu.pairThenTwoLoop(
        s2,
        t,
        gpu.fromHost(g),
        gpu.fromHost(prev),
        y2,
        [...up(old), s2],
        [...up(oldY), y2],
        [...rho, Number.NaN],
        d2,
      );
      // One after the other, on the GPU too (the host's two-loop needs a Float64 ρ).
      const [s1, y1, d1] = [gpu.fromHost(dir), gpu.take(), gpu.take()];
      const pair = await gpu.curvaturePair(s1, t, gpu.fromHost(g), gpu.fromHost(prev), y1);
      const want = await gpu.twoLoop(
        gpu.fromHost(g),
        [...up(old), s1],
        [...up(oldY), y1],
        [...rho, 1 / pair.ys],
        pair.ys / pair.yy,
        d1,
      );
      const hostPair = await host.curvaturePair(dir.slice(), t, g, prev, new Float32Array(N));
      close(pair.ys, hostPair.ys);
      close(got.ys, pair.ys);
      close(got.yy, pair.yy);
      close(got.gtd, want.gtd, 1e-5);
      close(got.maxAbs, want.maxAbs, 1e-5);
      expect(maxRel(await gpu.toHost(d2), await gpu.toHost(d1))).toBeLessThan(1e-5);
    }
  });

  // A separable, ill-conditioned quartic-plus-quadratic: L-BFGS needs its history and line search.
  // Smaller: each evaluation goes through the host here.
  const M = 4099;
  const scales = Float32Array.from({ length: M }, (_, i) => 1 + (i % 97) * 3);
  const f = (x: Float32Array): Evaluation => {
    let loss = 0;
    const grad = new Float32Array(M);
    for (let i = 0; i < M; i++) {
      const v = x[i] - 1;
      loss += 0.5 * scales[i] * v * v + 0.25 * v ** 4;
      grad[i] = scales[i] * v + v ** 3;
    }
    return { loss, grad };
  };
  const start = () => Float32Array.from({ length: M }, (_, i) => 3 * Math.cos(i));

  /**
   * The host optimiser and the GPU one side by side: each step's loss and evaluation count. The
   * GPU's vectors are reserved as a job reserves them: none may be made beyond.
   */
  async function sideBySide(
    reserve: number,
    make: <V>(x: V, obj: (x: V) => Promise<Evaluation<V>>, ops?: GpuVectors) => Optimizer<V>,
    fn = f,
  ) {
    const small = await GpuVectors.create(device, M, 5, reserve);
    const owned = (small as unknown as { owned: Set<GPUBuffer> }).owned;
    expect(owned.size).toBe(reserve);
    const onHost = make(start(), async (x: Float32Array) => fn(x));
    const onGpu = make(
      small.fromHost(start()),
      async (x: GPUBuffer) => {
        const e = fn(await small.toHost(x));
        return { loss: e.loss, grad: small.fromHost(e.grad) };
      },
      small,
    );
    const losses: [number, number][] = [];
    const curvature: (number | undefined)[][] = [];
    let evals = 0;
    for (let i = 0; i < 12; i++) {
      const [a, b] = [await onHost.step(), await onGpu.step()];
      expect(b.evals).toBe(a.evals);
      evals += a.evals;
      losses.push([a.at.loss, b.at.loss]);
      curvature.push([onHost, onGpu].map((o) => (o as { curvatureScale?: number }).curvatureScale));
    }
    expect(owned.size).toBe(reserve);
    const x = [onHost.x, await small.toHost(onGpu.x)] as const;
    small.dispose();
    return { losses, evals, x, opts: [onHost, onGpu], curvature };
  }

  it("L-BFGS: the same steps as on the host, line searches included", async () => {
    const opts = { history: 5, firstStep: 2 };
    const { losses, evals, x } = await sideBySide(
      lbfgsVectors(opts),
      (x0, obj, ops) => new Lbfgs(x0, obj, opts, ops as never),
    );
    expect(evals).toBeGreaterThan(13); // some line searches went on past t = 1 (the GPU's g·d)
    for (const [a, b] of losses) close(b, a, 1e-3);
    expect(losses[11][0]).toBeLessThan(losses[0][0] / 100); // it converges: the check is not vacuous
    expect(maxRel(x[1], x[0])).toBeLessThan(1e-3);
  }, 60_000);

  it("L-BFGS as jobs run it (sufficient decrease only): the same steps as on the host", async () => {
    const opts = { history: 5, firstStep: 2, decreaseOnly: true };
    const { losses, x } = await sideBySide(
      lbfgsVectors(opts),
      (x0, obj, ops) => new Lbfgs(x0, obj, opts, ops as never),
    );
    for (const [a, b] of losses) close(b, a, 1e-3);
    expect(maxRel(x[1], x[0])).toBeLessThan(1e-3);
  }, 60_000);

  it("L-BFGS on a plane: every pair has no curvature and is dropped, on the GPU after the fact", async () => {
    const c = Float32Array.from({ length: M }, (_, i) => Math.cos(i));
    const plane = (x: Float32Array): Evaluation => ({ loss: x.reduce((a, v, i) => a + c[i] * v, 0), grad: c.slice() });
    const opts = { history: 5, firstStep: 2, decreaseOnly: true };
    const fused = vi.spyOn(GpuVectors.prototype, "pairThenTwoLoop");
    try {
      const run = await sideBySide(lbfgsVectors(opts), (x0, obj, ops) => new Lbfgs(x0, obj, opts, ops as never), plane);
      expect(fused).toHaveBeenCalledTimes(11); // steps 2–12, each with a pair to try
      for (const [a, b] of run.losses) close(b, a, 1e-4);
      expect(run.losses[11][0]).toBeLessThan(run.losses[0][0]);
      for (const o of run.opts) expect((o as unknown as { s: unknown[] }).s).toHaveLength(0);
    } finally {
      fused.mockRestore();
    }
  }, 60_000);

  it("L-BFGS with a full history: a pair dropped after the fact leaves the history and H₀ as they were", async () => {
    // Pairs 7 and 9 (steps 8 and 10, the history of 5 full since pair 5) are said to have no
    // curvature, on the host and on the GPU alike.
    const dropped = new Set([7, 9]);
    let hostCalls = 0;
    let gpuCalls = 0;
    const hostPair = HostVectors.prototype.curvaturePair;
    const gpuPair = GpuVectors.prototype.pairThenTwoLoop;
    const onHost = vi.spyOn(HostVectors.prototype, "curvaturePair").mockImplementation(async function (
      this: HostVectors,
      ...args
    ) {
      const r = await hostPair.apply(this, args);
      return dropped.has(++hostCalls) ? { ...r, ys: -1 } : r;
    });
    const onGpu = vi.spyOn(GpuVectors.prototype, "pairThenTwoLoop").mockImplementation(async function (
      this: GpuVectors,
      ...args
    ) {
      const r = await gpuPair.apply(this, args);
      return dropped.has(++gpuCalls) ? { ...r, ys: -1 } : r;
    });
    try {
      const opts = { history: 5, firstStep: 2, decreaseOnly: true };
      const run = await sideBySide(lbfgsVectors(opts), (x0, obj, ops) => new Lbfgs(x0, obj, opts, ops as never));
      expect([hostCalls, gpuCalls]).toEqual([11, 11]);
      for (const [a, b] of run.losses) close(b, a, 1e-3);
      // Step s tries pair s − 1: after steps 8 and 10, H₀ is still the one of the step before.
      for (const step of [8, 10]) {
        expect(run.curvature[step - 1]).toEqual(run.curvature[step - 2]);
        expect(run.curvature[step]).not.toEqual(run.curvature[step - 1]); // and the next pair moves it
      }
      for (const o of run.opts) expect((o as unknown as { s: unknown[] }).s).toHaveLength(5);
    } finally {
      onHost.mockRestore();
      onGpu.mockRestore();
    }
  }, 60_000);

  it("Adam: the same steps as on the host", async () => {
    const { losses, x } = await sideBySide(
      ADAM_VECTORS,
      (x0, obj, ops) => new Adam(x0, obj, { lr: 0.1 }, ops as never),
    );
    for (const [a, b] of losses) close(b, a, 1e-4);
    expect(losses[11][0]).toBeLessThan(losses[0][0]);
    expect(maxRel(x[1], x[0])).toBeLessThan(1e-4);
  }, 60_000);
});
