// The optimisers' vector work on the GPU (VectorOps over GPUBuffers): the image, its gradient and
// L-BFGS's history stay where the evaluation computes them. In JavaScript the two-loop of a 512 px
// image took 40 ms a step here, more than a GPU evaluation; on the GPU it is 2k + 1 passes over
// memory. Only numbers come back (y·s, g·d, a line search's slope), never a vector.
//
// One kernel does every pass: q ← (keep·q + coef·v)·scale, with the sum of next·q and the max of
// |q| (or the sum of q²) per workgroup. coef = c0 + baseMul·scal[base] + mult·scal[acc] reads the
// scalars earlier passes left on the GPU, so the two-loop's chain α_i = ρ_i·s_i·q, β_i = ρ_i·y_i·q
// needs no round trip; a one-workgroup reduction turns each pass's partial sums into scal[acc].
import type { TwoLoopResult } from "../optim/two-loop";
import { type AdamStep, MIN_CURVATURE, type VectorOps } from "../optim/vectors";
import { COMPUTE, COPY_DST, COPY_SRC, MAP_READ, STORAGE, UNIFORM } from "./flags";
import { GpuError, mapForReading, scopeError, type Watchdog, withErrorScopes } from "./limits";
import { ACC, ADAM, KEEP_Q, NO_NEXT, NONE, PAIR, PASS, PASS_GROUPS, REDUCE, SCALARS, THREADS } from "./vector-kernels";

/** Uniform slots are 256 bytes apart (WebGPU's minUniformBufferOffsetAlignment). */
const SLOT = 256;
/** Bind groups kept for reuse (each names its buffers; the vectors rotate through the history). */
const MAX_BIND_GROUPS = 4096;

/** One pass of PASS: see the file's comment. */
interface Pass {
  q: GPUBuffer;
  v: GPUBuffer;
  next: GPUBuffer;
  c0?: number;
  mult?: number;
  acc?: number;
  baseMul?: number;
  base?: number;
  store?: number;
  keep?: number;
  scale?: number;
  squares?: boolean;
  /** Read q only (KEEP_Q), skip next (NO_NEXT). */
  flags?: number;
  /** mult is divided by scal[rhoAt] (a pair's y·s made in the same submit: ρ = 1/y·s). */
  rhoAt?: number;
  /** scale = scal[scaleAt] / scal[scaleAt + 1] (that pair's H₀ = y·s / y·y). */
  scaleAt?: number;
  /** Reduce the partial sums into scal[out], scal[out + 1]; without it the sums are not needed. */
  out?: number;
}

/** The scalar slots a pass reads (see PASS). */
function reads(ps: Pass): number[] {
  const slots: number[] = [];
  if (ps.mult) slots.push(ps.acc ?? 0);
  if (ps.baseMul) slots.push(ps.base ?? 0);
  if (ps.rhoAt !== undefined) slots.push(ps.rhoAt);
  if (ps.scaleAt !== undefined) slots.push(ps.scaleAt, ps.scaleAt + 1);
  return slots;
}

/** Made once per device, shared by every GpuVectors on it. */
const pipelines = new WeakMap<
  GPUDevice,
  { pass: GPUComputePipeline; reduce: GPUComputePipeline; adam: GPUComputePipeline }
>();

export class GpuVectors implements VectorOps<GPUBuffer> {
  private readonly spare: GPUBuffer[] = [];
  private readonly owned = new Set<GPUBuffer>();
  private readonly scal: GPUBuffer;
  private readonly partials: GPUBuffer;
  private readonly uniforms: GPUBuffer;
  private readonly staging: GPUBuffer;
  private readonly groups: number;
  private readonly bytes: number;
  private readonly slots: number;
  private readonly pipes: { pass: GPUComputePipeline; reduce: GPUComputePipeline; adam: GPUComputePipeline };

  private constructor(
    readonly device: GPUDevice,
    readonly n: number,
    /** Most curvature pairs the two-loop will be given. */
    readonly history: number,
    private readonly watchdog: Watchdog,
  ) {
    if (history > ACC) throw new Error(`at most ${ACC} curvature pairs on the GPU`);
    this.bytes = n * 4;
    this.groups = Math.min(PASS_GROUPS, Math.ceil(n / THREADS));
    // A curvature pair and a two-loop: 2 + 2k + 1 passes, each with its reduction.
    this.slots = 2 * (2 * history + 3) + 2;
    const buf = (size: number, usage: number) => device.createBuffer({ size, usage });
    this.scal = buf(SCALARS * 4, STORAGE | COPY_SRC | COPY_DST);
    this.partials = buf(2 * this.groups * 4, STORAGE);
    this.uniforms = buf(this.slots * SLOT, UNIFORM | COPY_DST);
    this.staging = buf(16, MAP_READ | COPY_DST);
    let pipes = pipelines.get(device);
    if (!pipes) {
      // Explicit layouts: the uniform slot is a dynamic offset, so a bind group names only buffers
      // (and is reused whatever pass position its buffers take next step).
      const pipe = (code: string, storage: ("read-only-storage" | "storage")[]) => {
        const layout = device.createBindGroupLayout({
          entries: [
            { binding: 0, visibility: COMPUTE, buffer: { type: "uniform", hasDynamicOffset: true } },
            ...storage.map((type, i) => ({ binding: i + 1, visibility: COMPUTE, buffer: { type } })),
          ],
        });
        return device.createComputePipeline({
          layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
          compute: { module: device.createShaderModule({ code }), entryPoint: "main" },
        });
      };
      const [r, w] = ["read-only-storage", "storage"] as const;
      pipes = { pass: pipe(PASS, [w, r, r, w, w]), reduce: pipe(REDUCE, [r, w]), adam: pipe(ADAM, [w, r, w, w]) };
      pipelines.set(device, pipes);
    }
    this.pipes = pipes;
  }

  /**
   * Vectors of n floats on `device`, with `reserve` of them allocated now: a GPU without the
   * memory says so here (GpuError "memory"), before the optimisation starts.
   */
  static async create(
    device: GPUDevice,
    n: number,
    history: number,
    reserve: number,
    watchdog: Watchdog = {},
  ): Promise<GpuVectors> {
    let ops: GpuVectors | undefined;
    try {
      return await withErrorScopes(device, async () => {
        ops = new GpuVectors(device, n, history, watchdog);
        const made = Array.from({ length: reserve }, () => ops!.take());
        for (const v of made) ops.release(v);
        return ops;
      });
    } catch (err) {
      ops?.dispose(); // what was made before the GPU said no
      throw err;
    }
  }

  take(): GPUBuffer {
    const v = this.spare.pop();
    if (v) return v;
    // Beyond the reserve (which covers the optimisers' needs): a GPU out of memory is told by the next read-back.
    const b = this.unscoped(() => this.device.createBuffer({ size: this.bytes, usage: STORAGE | COPY_SRC | COPY_DST }));
    this.owned.add(b);
    return b;
  }

  /** Errors of work done outside a read-back's scope, reported by the next read-back (see settle). */
  private pending: { validation: Promise<GPUError | null>; memory: Promise<GPUError | null> }[] = [];

  private unscoped<T>(work: () => T): T {
    this.device.pushErrorScope("out-of-memory");
    this.device.pushErrorScope("validation");
    try {
      return work();
    } finally {
      const validation = this.device.popErrorScope();
      this.pending.push({ validation, memory: this.device.popErrorScope() });
    }
  }

  /** Throws (GpuError) what the work since the last read-back did wrong: no step goes on from stale vectors. */
  async settle(): Promise<void> {
    const pending = this.pending.splice(0);
    const memory = (await Promise.all(pending.map((p) => p.memory))).find((e) => e !== null);
    const validation = (await Promise.all(pending.map((p) => p.validation))).find((e) => e !== null);
    const err = scopeError(memory, validation);
    if (err) throw err;
  }

  release(v: GPUBuffer): void {
    if (this.owned.has(v) && !this.spare.includes(v)) this.spare.push(v);
  }

  /** Free every vector it made (the optimiser's included) and its own buffers. */
  dispose(): void {
    for (const b of [...this.owned, this.scal, this.partials, this.uniforms, this.staging]) b.destroy();
    this.owned.clear();
    this.spare.length = 0;
    this.binds.clear();
  }

  fromHost(a: Float32Array): GPUBuffer {
    if (a.length !== this.n) throw new Error(`a vector of ${a.length} values, expected ${this.n}`);
    const b = this.take();
    this.unscoped(() => this.device.queue.writeBuffer(b, 0, a as Float32Array<ArrayBuffer>));
    return b;
  }

  async toHost(v: GPUBuffer): Promise<Float32Array> {
    await this.settle();
    return withErrorScopes(this.device, async () => {
      const staging = this.device.createBuffer({ size: this.bytes, usage: MAP_READ | COPY_DST });
      try {
        const enc = this.device.createCommandEncoder();
        enc.copyBufferToBuffer(v, 0, staging, 0, this.bytes);
        this.device.queue.submit([enc.finish()]);
        await mapForReading(this.device, staging, this.watchdog);
        return new Float32Array(staging.getMappedRange().slice(0));
      } finally {
        staging.destroy();
      }
    });
  }

  zero(v: GPUBuffer): void {
    this.unscoped(() => {
      const enc = this.device.createCommandEncoder();
      enc.clearBuffer(v);
      this.device.queue.submit([enc.finish()]);
    });
  }

  async dot(a: GPUBuffer, b: GPUBuffer): Promise<number> {
    // A reduction over q = a (read only): Σ b·a, or Σ a² when b is a (a writable binding may not
    // alias another one: the scratch vector stands in, unread).
    if (a === b)
      return notNaN(
        (
          await this.run(
            [{ q: a, ...this.unread(), keep: 1, squares: true, flags: KEEP_Q | NO_NEXT, out: ACC }],
            ACC + 1,
            1,
          )
        )[0],
      );
    return notNaN((await this.run([{ q: a, v: b, next: b, keep: 1, flags: KEEP_Q, out: ACC }], ACC, 1))[0]);
  }

  async maxAbs(a: GPUBuffer): Promise<number> {
    return notNaN(
      (await this.run([{ q: a, ...this.unread(), keep: 1, flags: KEEP_Q | NO_NEXT, out: ACC }], ACC + 1, 1))[0],
    );
  }

  private scratch?: GPUBuffer;

  /** v and next for a pass that reads neither (coef 0, NO_NEXT). */
  private unread() {
    this.scratch ??= this.take();
    return { v: this.scratch, next: this.scratch };
  }

  along(out: GPUBuffer, x: GPUBuffer, t: number, d: GPUBuffer): void {
    this.unscoped(() => {
      const enc = this.device.createCommandEncoder();
      if (out !== x) enc.copyBufferToBuffer(x, 0, out, 0, this.bytes);
      this.encode(enc, [{ q: out, v: d, next: d, keep: 1, c0: t, flags: NO_NEXT }]);
      this.device.queue.submit([enc.finish()]);
    });
  }

  async curvaturePair(s: GPUBuffer, t: number, g: GPUBuffer, prev: GPUBuffer, y: GPUBuffer) {
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(g, 0, y, 0, this.bytes);
    const [ys, yy] = await this.run(this.pairPasses(s, t, g, prev, y), PAIR, 2, enc);
    return { ys: notNaN(ys), yy: notNaN(yy) };
  }

  async twoLoop(
    g: GPUBuffer,
    s: readonly GPUBuffer[],
    y: readonly GPUBuffer[],
    rho: readonly number[],
    hDiag: number,
    d: GPUBuffer,
  ): Promise<TwoLoopResult> {
    const [gtd, maxAbs] = await this.run(this.twoLoopPasses(g, s, y, rho, hDiag, d, false), ACC, 2);
    return { gtd: notNaN(gtd), maxAbs: notNaN(maxAbs) };
  }

  /** Both in one submit and one read-back: the pair's ρ and H₀ are read on the GPU (see VectorOps). */
  async pairThenTwoLoop(
    sk: GPUBuffer,
    t: number,
    g: GPUBuffer,
    prev: GPUBuffer,
    yk: GPUBuffer,
    s: readonly GPUBuffer[],
    y: readonly GPUBuffer[],
    rho: readonly number[],
    d: GPUBuffer,
  ) {
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(g, 0, yk, 0, this.bytes);
    const passes = [...this.pairPasses(sk, t, g, prev, yk), ...this.twoLoopPasses(g, s, y, rho, 0, d, true)];
    const [gtd, maxAbs, ys, yy] = await this.run(passes, ACC, 4, enc);
    // A pair without curvature (dropped, the two-loop run again) gives a direction of 1/0s.
    if (!(ys > MIN_CURVATURE)) return { ys: notNaN(ys), yy: notNaN(yy), gtd, maxAbs };
    return { ys, yy: notNaN(yy), gtd: notNaN(gtd), maxAbs: notNaN(maxAbs) };
  }

  /** s ← t·s; y ← y − prev (y holds g already): y·s and y·y into scal[PAIR], scal[PAIR + 1]. */
  private pairPasses(s: GPUBuffer, t: number, g: GPUBuffer, prev: GPUBuffer, y: GPUBuffer): Pass[] {
    return [
      { q: s, v: g, next: g, keep: 1, scale: t, flags: NO_NEXT },
      { q: y, v: prev, next: s, keep: 1, c0: -1, squares: true, out: PAIR },
    ];
  }

  /** The two-loop's passes; `newestOnGpu`: the last pair's ρ and H₀ are scal's (pairPasses), not rho's and hDiag. */
  private twoLoopPasses(
    g: GPUBuffer,
    s: readonly GPUBuffer[],
    y: readonly GPUBuffer[],
    rho: readonly number[],
    hDiag: number,
    d: GPUBuffer,
    newestOnGpu: boolean,
  ): Pass[] {
    const k = s.length;
    if (k > this.history) throw new Error(`${k} curvature pairs; this GpuVectors holds ${this.history}`);
    if (k === 0) {
      if (newestOnGpu) throw new Error("no pair to read on the GPU");
      return [{ q: d, v: g, next: g, c0: -hDiag, out: ACC }];
    }
    const newest = (i: number) => (newestOnGpu && i === k - 1 ? { rhoAt: PAIR } : {});
    const h0 = newestOnGpu ? { scaleAt: PAIR } : { scale: hDiag };
    // q = −g, with s_{k−1}·q.
    const passes: Pass[] = [{ q: d, v: g, next: s[k - 1], c0: -1, out: ACC }];
    // Newest to oldest: α_i = ρ_i·s_i·q (stored in scal[i]), q −= α_i·y_i; with the next s·q,
    // or after the oldest q·H₀ and y_0·q.
    for (let i = k - 1; i >= 0; i--) {
      const last = i === 0;
      passes.push({
        q: d,
        v: y[i],
        next: last ? y[0] : s[i - 1],
        keep: 1,
        mult: newestOnGpu && i === k - 1 ? -1 : -rho[i],
        ...newest(i),
        acc: ACC,
        store: i,
        ...(last ? h0 : {}),
        out: ACC,
      });
    }
    // Oldest to newest: q += (α_i − ρ_i·y_i·q)·s_i (α_i = −coef of its first-loop pass); with
    // the next y·q, or after the newest g·d and max |d|.
    for (let i = 0; i < k; i++)
      passes.push({
        q: d,
        v: s[i],
        next: i < k - 1 ? y[i + 1] : g,
        keep: 1,
        baseMul: -1,
        base: i,
        mult: newestOnGpu && i === k - 1 ? -1 : -rho[i],
        ...newest(i),
        acc: ACC,
        out: ACC,
      });
    return passes;
  }

  adam(x: GPUBuffer, g: GPUBuffer, m: GPUBuffer, v: GPUBuffer, a: AdamStep): void {
    const params = new ArrayBuffer(32);
    new Uint32Array(params)[0] = this.n;
    new Float32Array(params).set([a.lr, a.beta1, a.beta2, a.eps, a.c1, a.c2], 1);
    this.unscoped(() => {
      this.device.queue.writeBuffer(this.uniforms, 0, params);
      const enc = this.device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(this.pipes.adam);
      pass.setBindGroup(0, this.bind(this.pipes.adam, [x, g, m, v]), [0]);
      pass.dispatchWorkgroups(this.groups);
      pass.end();
      this.device.queue.submit([enc.finish()]);
    });
  }

  /** Encode the passes (and their reductions), submit, and read back `count` scalars from scal[at]. */
  private async run(passes: Pass[], at: number, count: number, enc = this.device.createCommandEncoder()) {
    await this.settle();
    return withErrorScopes(this.device, async () => {
      this.encode(enc, passes);
      enc.copyBufferToBuffer(this.scal, at * 4, this.staging, 0, count * 4);
      this.device.queue.submit([enc.finish()]);
      await mapForReading(this.device, this.staging, this.watchdog, 0, count * 4);
      const out = Array.from(new Float32Array(this.staging.getMappedRange(0, count * 4)));
      this.staging.unmap();
      return out;
    });
  }

  private encode(enc: GPUCommandEncoder, passes: Pass[]): void {
    const data = new ArrayBuffer(passes.length * 2 * SLOT);
    const u32 = new Uint32Array(data);
    const f32 = new Float32Array(data);
    const pass = enc.beginComputePass();
    let slot = 0;
    for (const ps of passes) {
      if (slot + 2 > this.slots) throw new Error("too many passes for the uniform buffer");
      // Workgroup 0 writes scal[store] while every workgroup reads its scalars: never the same slot.
      if (ps.store !== undefined && reads(ps).includes(ps.store))
        throw new Error(`pass stores into scalar ${ps.store}, which it also reads`);
      const o = (slot * SLOT) / 4;
      u32.set([this.n, ps.acc ?? 0, ps.base ?? 0, ps.store ?? NONE], o);
      f32.set([ps.c0 ?? 0, ps.mult ?? 0, ps.baseMul ?? 0, ps.keep ?? 0, ps.scale ?? 1], o + 4);
      u32[o + 9] = ps.squares ? 1 : 0;
      u32[o + 10] = ps.flags ?? 0;
      u32[o + 11] = ps.rhoAt ?? NONE;
      u32[o + 12] = ps.scaleAt ?? NONE;
      pass.setPipeline(this.pipes.pass);
      pass.setBindGroup(0, this.bind(this.pipes.pass, [ps.q, ps.v, ps.next, this.scal, this.partials]), [slot * SLOT]);
      pass.dispatchWorkgroups(this.groups);
      slot++;
      if (ps.out === undefined) continue;
      const r = ((slot * SLOT) / 4) | 0;
      u32.set([this.groups, ps.out, ps.squares ? 1 : 0, 0], r);
      pass.setPipeline(this.pipes.reduce);
      pass.setBindGroup(0, this.bind(this.pipes.reduce, [this.partials, this.scal]), [slot * SLOT]);
      pass.dispatchWorkgroups(1);
      slot++;
    }
    pass.end();
    // Written before the submit that reads them: queue writes land before later submits.
    this.device.queue.writeBuffer(this.uniforms, 0, data, 0, slot * SLOT);
  }

  /** Bind groups made so far, by pipeline and buffers (the uniform slot is a dynamic offset). */
  private readonly binds = new Map<string, GPUBindGroup>();
  private readonly ids = new WeakMap<object, number>();
  private nextId = 0;

  private bind(pipeline: GPUComputePipeline, buffers: GPUBuffer[]): GPUBindGroup {
    const id = (o: object) => {
      let v = this.ids.get(o);
      if (v === undefined) {
        v = this.nextId++;
        this.ids.set(o, v);
      }
      return v;
    };
    const key = `${id(pipeline)} ${buffers.map(id).join(" ")}`;
    let group = this.binds.get(key);
    if (!group) {
      if (this.binds.size >= MAX_BIND_GROUPS) this.binds.clear();
      group = this.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: this.uniforms, offset: 0, size: 64 } },
          ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
        ],
      });
      this.binds.set(key, group);
    }
    return group;
  }
}

/**
 * A sum read back from the GPU: NaN is the GPU's doing (finite vectors give none), and would
 * otherwise read as convergence (GPUs differ on NaN; some drop it in max()).
 */
function notNaN(v: number): number {
  if (Number.isNaN(v)) throw new GpuError("wrong", "the GPU computed an optimiser value that is not a number (NaN)");
  return v;
}
