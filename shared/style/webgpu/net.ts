// The Gatys loss and its gradient on any GPUDevice (Dawn in the companion, navigator.gpu in a
// browser): VGG-19 forward to relu5_1, Grams, the relative content/style/TV losses exactly as the
// ONNX graphs in companion/style/graph define them, and the backward pass to the image — all on
// the GPU, one submit and one read-back per evaluation: the loss's partial sums, and the gradient
// unless it goes into the optimiser's GPU buffer (evaluateOnGpu, for ./vectors).
import { dot } from "../optim/types";
import {
  CONTENT_LAYER,
  type ConvWeights,
  downsampledMasks,
  type Evaluation,
  type Features,
  type LossWeights,
  type Pooling,
  poolsAfter,
  reluName,
  checkStyleSize,
  STYLE_LAYERS,
  type Targets,
  transposeFlip,
} from "../vgg";
import {
  type Dispatch,
  FEW_ROWS,
  gemmLaunch,
  gemmShader,
  gramBackwardSpec,
  gramSlices,
  gramSpec,
  kMajorWeights,
  SQUARE,
  type Tiles,
  tilesFit,
} from "./gemm";
import {
  CONTENT,
  elementGrid,
  elementParams,
  GRAM_FINISH,
  poolBackward,
  poolForward,
  REDUCE_GROUPS,
  SUM_SQUARES,
  THREADS,
  TOTAL_VARIATION,
} from "./kernels";
import { evaluationTimeoutMs, GpuError, mapForReading, sizeProblem, type Watchdog, withErrorScopes } from "./limits";
import { type Bound, bind, record } from "./dispatch";
import { COPY_DST, COPY_SRC, MAP_READ, QUERY_RESOLVE, STORAGE } from "./flags";
import { DEEP_PIXELS } from "./tiles";
import { convSlices, directConv } from "./direct-conv";
import { largestBufferBytes } from "./sizes";
import { POSITIONS, SCRATCH_BYTES, scratchFloatsFor, winogradConv, winogradWeights } from "./winograd";

export { largestBufferBytes };

/** WebGPU's largest query set. */
const MAX_QUERIES = 4096;

/** One evaluation's steps timed (see WebGpuStyleNet.profile): by GPU timestamps or by wall clock. */
export interface Profile {
  timing: "gpu" | "wall";
  kernels: { label: string; ms: number }[];
}

export interface WebGpuNetOptions {
  pooling: Pooling;
  /** GEMM tiles for the convolutions (see ./tiles: chosen per adapter). Grams use square 64×64 tiles. */
  tiles: Tiles;
  /** Tiles for convolutions over at most DEEP_PIXELS pixels (default: `tiles`). */
  deepTiles?: Tiles;
  /**
   * Convolutions over more than DEEP_PIXELS pixels (wide; those of at least minChannels channels,
   * the fewer of in and out) or at most (deep) by Winograd's transforms (./winograd), where the
   * adapter's trial measured them faster (./tiles). Default: neither.
   */
  winograd?: { wide: boolean; deep: boolean; minChannels?: number };
  /**
   * An evaluation that has not come back after this long (raised for large images: see
   * evaluationTimeoutMs) counts as a hung GPU: the device is destroyed (so the work stops) and a
   * GpuError "timeout" thrown. 0: wait for ever (software adapters).
   */
  timeoutMs?: number;
}

type Step =
  | (Bound & {
      kind: "dispatch";
      /** What it computes, for profile(). */
      label?: string;
    })
  | { kind: "clear"; buffer: GPUBuffer; size: number; label?: string };

/**
 * Record steps: dispatches share compute passes (made with `descriptor`: timestamp writes, say); a
 * clear ends the pass it interrupts.
 */
function encode(enc: GPUCommandEncoder, steps: Step[], descriptor?: GPUComputePassDescriptor): void {
  let pass: GPUComputePassEncoder | undefined;
  for (const step of steps) {
    if (step.kind === "clear") {
      pass?.end();
      pass = undefined;
      enc.clearBuffer(step.buffer, 0, step.size);
    } else {
      pass ??= enc.beginComputePass(descriptor);
      record(pass, step);
    }
  }
  pass?.end();
}

/** Name steps for profile(). */
function tag<T extends Step>(label: string, ...steps: T[]): T[] {
  for (const st of steps) st.label = label;
  return steps;
}

interface Layer {
  conv: ConvWeights;
  relu: string;
  h: number;
  w: number;
  act: GPUBuffer;
  /** The pooled output when a pooling follows. */
  pooled?: GPUBuffer;
}

/** Buffers and forward steps for one image size. */
interface Sized {
  h: number;
  w: number;
  x: GPUBuffer;
  layers: Layer[];
  grads: [GPUBuffer, GPUBuffer];
  gradImage: GPUBuffer;
  /** Partial sums of split GEMMs, a slice each: the Grams' pixels, few-pixel convolutions' K (sliceFloats). */
  slices: GPUBuffer;
  /** Winograd convolutions' transformed input and products (floats each), when a layer uses them. */
  winograd?: { v: GPUBuffer; prod: GPUBuffer; floats: number };
  forward: Step[];
}

/** The scratch buffers convolutions share: Winograd's (when a layer uses it), the split GEMMs' slices. */
type Scratch = Pick<Sized, "winograd" | "slices">;

/** One evaluation's recorded work for a (size, targets, weights): replayed each call. */
interface LossPlan {
  key: { targets: Targets; lw: string; h: number; w: number };
  steps: Step[];
  partials: GPUBuffer;
  staging: GPUBuffer;
  /** Which partial sums make which term, and their factors. */
  terms: { name: string; offset: number; count: number; factor: number }[];
  owned: GPUBuffer[];
}

/** A layer's weights on the GPU: direct (k-major), and for Winograd (forward and input gradient) once a size needs them. */
interface Uploaded {
  conv: ConvWeights;
  wt: GPUBuffer;
  bias: GPUBuffer;
  wtT: GPUBuffer;
  winograd?: { u: GPUBuffer; uT: GPUBuffer };
}

const winogradBuffers = (c: Uploaded) => (c.winograd ? [c.winograd.u, c.winograd.uT] : []);

/** Not on the image's side (3 channels): there Winograd's transforms would cost more than its GEMMs save. */
const rgbFree = (conv: ConvWeights) => conv.inC > FEW_ROWS.tm;

export class WebGpuStyleNet {
  private sized?: Sized;
  private plan?: LossPlan;
  private lost?: string;
  private disposed = false;
  private readonly zeros: GPUBuffer;
  /** The layers' weights as given (names and channel counts for the size arithmetic). */
  private readonly specs: ConvWeights[];
  /** Where convolutions run by Winograd: the options', until the GPU has no memory for it. */
  private winograd: WebGpuNetOptions["winograd"];

  private constructor(
    readonly device: GPUDevice,
    private readonly convs: Uploaded[],
    private readonly opts: WebGpuNetOptions,
  ) {
    this.specs = convs.map((c) => c.conv);
    this.winograd = opts.winograd;
    const widest = Math.max(...this.specs.map((c) => c.outC));
    this.zeros = this.buffer(widest * widest * 4);
    device.lost.then((info) => {
      this.lost = info.message || info.reason || "the GPU device was lost";
    });
  }

  /** Upload the weights; pipelines are made on first use and shared by every net on the device. */
  static create(device: GPUDevice, convs: ConvWeights[], opts: WebGpuNetOptions): WebGpuStyleNet {
    for (const t of [opts.tiles, opts.deepTiles ?? opts.tiles, FEW_ROWS, SQUARE])
      if (!tilesFit(t, device.limits))
        throw new GpuError("refused", `tiles ${JSON.stringify(t)} exceed this device's workgroup limits`);
    const up = (data: Float32Array) => {
      const b = device.createBuffer({ size: Math.max(16, data.byteLength), usage: STORAGE | COPY_DST });
      device.queue.writeBuffer(b, 0, onHeap(data));
      return b;
    };
    const uploaded = convs.map((conv) => ({
      conv,
      wt: up(kMajorWeights(conv.kernel, conv.outC, conv.inC * 9)),
      bias: up(conv.bias),
      wtT: up(kMajorWeights(transposeFlip(conv), conv.inC, conv.outC * 9)),
    }));
    return new WebGpuStyleNet(device, uploaded, opts);
  }

  /**
   * The Winograd weights of every convolution not on the image's side, made on the GPU from the
   * direct ones when a size first needs them (inside the error scopes: out of memory is caught).
   */
  private transformWeights(): void {
    if (this.convs.some((c) => c.winograd)) return;
    const steps: Step[] = [];
    for (const c of this.convs.filter((c) => rgbFree(c.conv))) {
      const { inC, outC } = c.conv;
      const [u, uT] = [0, 1].map(() => this.buffer(POSITIONS * inC * outC * 4));
      c.winograd = { u, uT };
      for (const d of [winogradWeights(c.wt, u, inC, outC), winogradWeights(c.wtT, uT, outC, inC)])
        steps.push(this.step(d));
    }
    const enc = this.device.createCommandEncoder();
    encode(enc, steps);
    this.device.queue.submit([enc.finish()]);
    destroy(uniformsOf(steps)); // freed once the submitted work is done
  }

  /** Content features (relu4_2) and style Grams of a preprocessed image [3, h, w]. */
  features(x: Float32Array, h: number, w: number): Promise<Features> {
    return this.checked(() => this.features_(x, h, w));
  }

  /** Loss terms and the gradient w.r.t. the preprocessed image [3, h, w]. */
  evaluate(x: Float32Array, h: number, w: number, t: Targets, lw: LossWeights): Promise<Evaluation> {
    return this.checked(() => this.evaluate_(x, h, w, t, lw));
  }

  private async features_(x: Float32Array, h: number, w: number): Promise<Features> {
    const s = this.size(h, w);
    const steps = [...s.forward];
    const owned: GPUBuffer[] = [];
    const grams = STYLE_LAYERS.map((name) => {
      const layer = this.layerOf(name);
      const c = layer.conv.outC;
      const g = this.buffer(c * c * 4);
      owned.push(g);
      steps.push(...tag(`gram ${name}`, ...this.gram(layer, this.zeros, g, 1 / (c * layer.h * layer.w))));
      return { g, bytes: c * c * 4 };
    });
    const content = this.layerOf(CONTENT_LAYER);
    const contentBytes = content.conv.outC * content.h * content.w * 4;
    const staging = this.buffer(contentBytes + grams.reduce((a, g) => a + g.bytes, 0), MAP_READ | COPY_DST);
    owned.push(staging);
    try {
      const data = await this.run(
        x,
        s,
        steps,
        (enc) => {
          enc.copyBufferToBuffer(content.act, 0, staging, 0, contentBytes);
          let at = contentBytes;
          for (const g of grams) {
            enc.copyBufferToBuffer(g.g, 0, staging, at, g.bytes);
            at += g.bytes;
          }
        },
        staging,
      );
      // The loss's targets: a NaN here (the GPU's, from a finite image) would follow the job to the CPU.
      if (data.some(Number.isNaN)) throw new GpuError("wrong", "the GPU computed features that are not numbers (NaN)");
      const starts = grams.map((_, i) => contentBytes / 4 + grams.slice(0, i).reduce((a, g) => a + g.bytes / 4, 0));
      return {
        content: data.slice(0, contentBytes / 4),
        grams: grams.map((g, i) => data.slice(starts[i], starts[i] + g.bytes / 4)),
      };
    } finally {
      destroy([...owned, ...uniformsOf(steps.slice(s.forward.length))]);
    }
  }

  private async evaluate_(x: Float32Array, h: number, w: number, t: Targets, lw: LossWeights): Promise<Evaluation> {
    const { data, plan, n } = await this.evaluation(x, h, w, t, lw);
    return { ...lossTerms(plan, data, n), grad: data.slice(0, n) };
  }

  /**
   * Make the buffers and steps an evaluation at this size with these targets needs (the first
   * evaluation would), so that what else a job puts on the GPU is allocated after them.
   */
  prepare(h: number, w: number, t: Targets, lw: LossWeights): Promise<void> {
    return this.checked(async () => {
      this.lossPlan(this.size(h, w), t, lw);
    });
  }

  /**
   * Like evaluate, with the image and its gradient in GPU buffers of 3·h·w floats (the optimiser's:
   * ./vectors): only the loss terms come back to the host.
   */
  evaluateOnGpu(
    x: GPUBuffer,
    grad: GPUBuffer,
    h: number,
    w: number,
    t: Targets,
    lw: LossWeights,
  ): Promise<Omit<Evaluation, "grad">> {
    return this.checked(async () => {
      const { data, plan } = await this.evaluation(x, h, w, t, lw, grad);
      return lossTerms(plan, data, 0);
    });
  }

  /**
   * One evaluation's round trip: the gradient into `grad`, or read back with the loss's partial
   * sums (data[0, n), the sums from data[n]); with `grad`, data holds only the sums.
   */
  private async evaluation(
    x: Float32Array | GPUBuffer,
    h: number,
    w: number,
    t: Targets,
    lw: LossWeights,
    grad?: GPUBuffer,
  ) {
    const s = this.size(h, w);
    const plan = this.lossPlan(s, t, lw);
    const n = 3 * h * w;
    const data = await this.run(
      x,
      s,
      plan.steps,
      (enc) => {
        enc.copyBufferToBuffer(s.gradImage, 0, grad ?? plan.staging, 0, n * 4);
        enc.copyBufferToBuffer(plan.partials, 0, plan.staging, n * 4, plan.partials.size);
      },
      plan.staging,
      grad && { offset: n * 4, size: plan.partials.size },
    );
    return { data, plan, n };
  }

  /** Free every buffer; the device itself belongs to the caller. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.dropPlan();
    this.dropSize();
    for (const c of this.convs) destroy([c.wt, c.bias, c.wtT, ...winogradBuffers(c)]);
    this.zeros.destroy();
  }

  /**
   * Each step of an evaluation timed on its own, in ms, in order, for finding the kernels that
   * matter. With the device's "timestamp-query": GPU time, every dispatch in its own pass of one
   * submit (clears, outside passes, count 0). Without: wall time of one submit and wait per step,
   * which adds each step's round trip.
   */
  profile(x: Float32Array, h: number, w: number, t: Targets, lw: LossWeights): Promise<Profile> {
    return this.checked(async () => {
      const s = this.size(h, w);
      const plan = this.lossPlan(s, t, lw);
      this.device.queue.writeBuffer(s.x, 0, onHeap(x));
      const steps = plan.steps;
      const label = (st: Step) => st.label ?? st.kind;
      if (this.device.features.has("timestamp-query") && 2 * steps.length <= MAX_QUERIES) {
        const ns = await this.timestamps(steps);
        return { timing: "gpu", kernels: steps.map((st, i) => ({ label: label(st), ms: ns[i] / 1e6 })) };
      }
      const kernels: Profile["kernels"] = [];
      for (const step of steps) {
        const enc = this.device.createCommandEncoder();
        encode(enc, [step]);
        const t0 = performance.now();
        this.device.queue.submit([enc.finish()]);
        await this.device.queue.onSubmittedWorkDone();
        kernels.push({ label: label(step), ms: performance.now() - t0 });
      }
      return { timing: "wall", kernels };
    });
  }

  /** GPU nanoseconds of each step (0 for clears): one submit, one pass per dispatch, one read-back. */
  private async timestamps(steps: Step[]): Promise<number[]> {
    const d = this.device;
    const n = 2 * steps.length;
    const queries = d.createQuerySet({ type: "timestamp", count: n });
    const resolved = this.buffer(n * 8, QUERY_RESOLVE | COPY_SRC);
    const staging = this.buffer(n * 8, MAP_READ | COPY_DST);
    try {
      const enc = d.createCommandEncoder();
      for (const [i, st] of steps.entries()) {
        const timestampWrites = { querySet: queries, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
        encode(enc, [st], { timestampWrites });
      }
      enc.resolveQuerySet(queries, 0, n, resolved, 0);
      enc.copyBufferToBuffer(resolved, 0, staging, 0, n * 8);
      d.queue.submit([enc.finish()]);
      await mapForReading(d, staging, this.watchdog(this.sized!));
      const t = new BigInt64Array(staging.getMappedRange().slice(0));
      staging.unmap();
      // A clear's slots were never written; a driver may also report an end before its start.
      return steps.map((st, i) => (st.kind === "clear" ? 0 : Math.max(0, Number(t[2 * i + 1] - t[2 * i]))));
    } finally {
      queries.destroy();
      resolved.destroy();
      staging.destroy();
    }
  }

  /** The watchdog of an evaluation at this size (see evaluationTimeoutMs). */
  private watchdog(s: Sized): Watchdog {
    return { timeoutMs: evaluationTimeoutMs(this.specs, s.h, s.w, this.opts.timeoutMs), lost: () => this.lost };
  }

  /** The watchdog's limit (see WebGpuNetOptions.timeoutMs), for other work on this device. */
  get timeoutMs(): number | undefined {
    return this.opts.timeoutMs;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  // ---- one evaluation ----

  /**
   * Upload x (or copy it from a GPU buffer), replay the steps, copy out, read back (all of
   * staging, or `range` of it): the one round trip.
   */
  private async run(
    x: Float32Array | GPUBuffer,
    s: Sized,
    steps: Step[],
    copyOut: (enc: GPUCommandEncoder) => void,
    staging: GPUBuffer,
    range?: { offset: number; size: number },
  ): Promise<Float32Array> {
    const bytes = 3 * s.h * s.w * 4;
    const d = this.device;
    const enc = d.createCommandEncoder();
    if (x instanceof Float32Array) {
      if (x.byteLength !== bytes) throw new Error(`image has ${x.length} values, expected ${bytes / 4}`);
      d.queue.writeBuffer(s.x, 0, onHeap(x));
    } else {
      if (x.size < bytes) throw new Error(`image buffer has ${x.size} bytes, expected ${bytes}`);
      enc.copyBufferToBuffer(x, 0, s.x, 0, bytes);
    }
    encode(enc, steps);
    copyOut(enc);
    d.queue.submit([enc.finish()]);
    await mapForReading(d, staging, this.watchdog(s), range?.offset, range?.size);
    const out = new Float32Array(staging.getMappedRange(range?.offset, range?.size).slice(0));
    staging.unmap();
    return out;
  }

  /** Run `work` with WebGPU's errors (invalid shaders, out of memory) turned into exceptions. */
  private async checked<T>(work: () => Promise<T>): Promise<T> {
    if (this.lost) throw new GpuError("lost", `the GPU stopped working: ${this.lost}`);
    if (this.disposed) throw new Error("this net was disposed");
    try {
      return await withErrorScopes(this.device, work);
    } catch (err) {
      // Winograd's weights and scratch are memory the direct kernels do without: try again without them.
      if (!(err instanceof GpuError && err.kind === "memory" && this.convs.some((c) => c.winograd))) throw err;
      this.dropWinograd();
      return withErrorScopes(this.device, work);
    }
  }

  /** Why convolutions that the trial put on Winograd run directly, if they do: for the job's notes. */
  winogradDropped?: string;

  private dropWinograd(): void {
    this.dropPlan();
    this.dropSize();
    for (const c of this.convs) {
      destroy(winogradBuffers(c));
      c.winograd = undefined;
    }
    this.winograd = undefined;
    this.winogradDropped =
      "This GPU has too little memory for Winograd's convolutions at this size: they run directly (slower).";
  }

  // ---- buffers and steps for a size ----

  private size(h: number, w: number): Sized {
    checkStyleSize(h, w);
    if (this.sized?.h === h && this.sized.w === w) return this.sized;
    const tooBig = sizeProblem(this.specs, this.device.limits, w, h);
    if (tooBig)
      throw new GpuError(
        "size",
        `a ${tooBig.long} px image needs a ${tooBig.need} byte buffer; this GPU allows ${tooBig.limit}`,
        tooBig,
      );
    this.dropPlan();
    this.dropSize();
    const winograd = this.winogradScratch(h, w);
    const slices = this.buffer(this.sliceFloats(h, w) * 4);
    const scratch: Scratch = { winograd, slices };
    const layers: Layer[] = [];
    const forward: Step[] = [];
    const x = this.buffer(3 * h * w * 4);
    let src = x;
    let lh = h;
    let lw = w;
    this.convs.forEach((c, i) => {
      const act = this.buffer(c.conv.outC * lh * lw * 4);
      forward.push(...tag(`${c.conv.name} forward`, ...this.convStep(i, "forward", src, act, lh, lw, scratch)));
      const layer: Layer = { conv: c.conv, relu: reluName(c.conv.name), h: lh, w: lw, act };
      if (poolsAfter(this.specs, i)) {
        layer.pooled = this.buffer(((c.conv.outC * lh * lw) / 4) * 4);
        forward.push(
          ...tag(
            `pool ${layer.relu}`,
            this.elementwise(poolForward(this.opts.pooling), [act, layer.pooled], c.conv.outC, lh, lw),
          ),
        );
        src = layer.pooled;
        lh /= 2;
        lw /= 2;
      } else src = act;
      layers.push(layer);
    });
    const widest = largestBufferBytes(this.specs, h, w);
    const grads: [GPUBuffer, GPUBuffer] = [this.buffer(widest), this.buffer(widest)];
    this.sized = { h, w, x, layers, grads, gradImage: this.buffer(3 * h * w * 4), slices, winograd, forward };
    return this.sized;
  }

  private dropSize(): void {
    const s = this.sized;
    if (!s) return;
    destroy([
      s.x,
      s.gradImage,
      s.slices,
      ...(s.winograd ? [s.winograd.v, s.winograd.prod] : []),
      ...s.grads,
      ...s.layers.flatMap((l) => (l.pooled ? [l.act, l.pooled] : [l.act])),
    ]);
    destroy(uniformsOf(s.forward));
    this.sized = undefined;
  }

  private layerOf(relu: string): Layer {
    const l = this.sized?.layers.find((k) => k.relu === relu);
    if (!l) throw new Error(`the network has no layer ${relu}`);
    return l;
  }

  // ---- the loss and backward pass for a size, targets and weights ----

  private lossPlan(s: Sized, t: Targets, lw: LossWeights): LossPlan {
    const lwKey = JSON.stringify(lw);
    const k = this.plan?.key;
    if (this.plan && k?.targets === t && k.lw === lwKey && k.h === s.h && k.w === s.w) return this.plan;
    this.dropPlan();
    const owned: GPUBuffer[] = [];
    const upload = (data: Float32Array) => {
      const b = this.buffer(data.byteLength);
      this.device.queue.writeBuffer(b, 0, onHeap(data));
      owned.push(b);
      return b;
    };
    // One region of partial sums per reduction: content, 5 per style term, TV.
    const partials = this.buffer((2 + STYLE_LAYERS.length * t.grams.length) * REDUCE_GROUPS * 4);
    owned.push(partials);
    const terms: LossPlan["terms"] = [];
    const region = (name: string, n: number, factor: number) => {
      const last = terms[terms.length - 1];
      const at = {
        name,
        offset: last ? last.offset + last.count : 0,
        count: Math.min(REDUCE_GROUPS, Math.ceil(n / THREADS)),
        factor,
      };
      terms.push(at);
      return at;
    };
    const steps: Step[] = [...s.forward];

    // What each layer's ReLU output receives from the loss terms, added to the gradient from above.
    const injections = new Map<string, ((grad: GPUBuffer) => void)[]>();
    const inject = (relu: string, f: (grad: GPUBuffer) => void) =>
      injections.set(relu, [...(injections.get(relu) ?? []), f]);

    // Content: w·Σ(F − P)²/ΣP², gradient 2w(F − P)/ΣP².
    const content = this.layerOf(CONTENT_LAYER);
    const contentN = content.conv.outC * content.h * content.w;
    if (t.content.length !== contentN) throw new Error("content target does not match the image size");
    const pNorm = Math.max(dot(t.content, t.content), 1e-8);
    const P = upload(t.content);
    inject(CONTENT_LAYER, (grad) => {
      const r = region("content", contentN, lw.content / pNorm);
      steps.push(
        ...tag(
          "content loss",
          this.reduce(CONTENT, [content.act, P, grad], partials, r, contentN, 0, 0, 0, (2 * lw.content) / pNorm),
        ),
      );
    });

    // Style term k: w_k·Σ_l s_l·Σ(G − A)², G = F·(F∘m)ᵀ/(C·S); gradient 4·w_k·s_l·(G − A)·(F∘m)/(C·S).
    t.grams.forEach((grams, term) => {
      const name = t.grams.length > 1 ? `style${term}` : "style";
      const mask = t.masks[term];
      const masks = mask ? downsampledMasks(mask, s.h, s.w) : undefined;
      STYLE_LAYERS.forEach((relu, l) => {
        const layer = this.layerOf(relu);
        const c = layer.conv.outC;
        const px = layer.h * layer.w;
        if (grams[l].length !== c * c) throw new Error(`Gram target ${relu} does not match the network`);
        const maskBuf = masks && upload(masks[l]);
        const norm =
          c *
          (masks
            ? Math.max(
                masks[l].reduce((a, v) => a + v, 0),
                1e-6,
              )
            : px);
        const scale = t.styleScales[term][l];
        const A = upload(grams[l]);
        const D = this.buffer(c * c * 4);
        owned.push(D);
        inject(relu, (grad) => {
          steps.push(...tag(`gram ${relu}`, ...this.gram(layer, A, D, 1 / norm, maskBuf)));
          const r = region(name, c * c, lw.style[term] * scale);
          steps.push(...tag(`style loss ${relu}`, this.reduce(SUM_SQUARES, [D], partials, r, c * c, 0, 0, 0, 0)));
          const bufs = maskBuf ? [D, layer.act, grad, maskBuf] : [D, layer.act, grad];
          const coef = (4 * lw.style[term] * scale) / norm;
          steps.push(
            ...tag(
              `gram backward ${relu}`,
              this.gemm(gramBackwardSpec(maskBuf !== undefined), SQUARE, bufs, c, px, c, layer.h, layer.w, coef),
            ),
          );
        });
      });
    });

    // Backward from relu5_1 to the image, alternating between the two gradient buffers.
    const other = (b: GPUBuffer) => (b === s.grads[0] ? s.grads[1] : s.grads[0]);
    let up: GPUBuffer | undefined; // the gradient w.r.t. the input of the layer above
    for (let i = s.layers.length - 1; i >= 0; i--) {
      const layer = s.layers[i];
      let g: GPUBuffer | undefined; // the gradient w.r.t. this layer's ReLU output
      if (up && layer.pooled) {
        g = other(up);
        steps.push(
          ...tag(
            `pool backward ${layer.relu}`,
            this.elementwise(poolBackward(this.opts.pooling), [layer.act, up, g], layer.conv.outC, layer.h, layer.w),
          ),
        );
      } else g = up;
      const adds = injections.get(layer.relu) ?? [];
      if (adds.length && !g) {
        g = s.grads[0];
        steps.push({ kind: "clear", buffer: g, size: layer.conv.outC * layer.h * layer.w * 4 });
      }
      if (!g) continue;
      for (const add of adds) add(g);
      const dst = i === 0 ? s.gradImage : other(g);
      steps.push(
        ...tag(`${layer.conv.name} backward`, ...this.convStep(i, "backward", g, dst, layer.h, layer.w, s, layer.act)),
      );
      up = dst;
    }
    if (!up) steps.push({ kind: "clear", buffer: s.gradImage, size: s.gradImage.size });

    // Total variation: ½·w·Σ(Δ²)/n on the image.
    const n = 3 * s.h * s.w;
    const r = region("tv", n, lw.tv / n);
    steps.push(
      ...tag("tv loss", this.reduce(TOTAL_VARIATION, [s.x, s.gradImage], partials, r, n, 3, s.h, s.w, lw.tv / n)),
    );

    const staging = this.buffer(n * 4 + partials.size, MAP_READ | COPY_DST);
    owned.push(staging);
    this.plan = { key: { targets: t, lw: lwKey, h: s.h, w: s.w }, steps, partials, staging, terms, owned };
    return this.plan;
  }

  /** Forget the last targets' buffers (the Grams, masks, recorded loss steps): what a parked net need not keep. */
  dropPlan(): void {
    if (!this.plan) return;
    destroy([...this.plan.owned, ...uniformsOf(this.plan.steps.slice(this.sized?.forward.length ?? 0))]);
    this.plan = undefined;
  }

  // ---- steps ----

  /** The adapter's tiles for a convolution over this many pixels: big tiles would leave deep layers' GPU idle. */
  private convTiles(pixels: number): Tiles {
    return pixels <= DEEP_PIXELS ? (this.opts.deepTiles ?? this.opts.tiles) : this.opts.tiles;
  }

  /** Whether conv i at this many pixels runs by Winograd's transforms (as the options say; never on the image's side). */
  private byWinograd(i: number, pixels: number): boolean {
    const w = this.winograd;
    const { inC, outC } = this.convs[i].conv;
    const on = pixels <= DEEP_PIXELS ? w?.deep : w?.wide && Math.min(inC, outC) >= (w.minChannels ?? 0);
    return Boolean(on && rgbFree(this.convs[i].conv));
  }

  /** Floats each Winograd scratch buffer needs at this size (bands beyond SCRATCH_BYTES), if any layer uses them. */
  private winogradScratch(h: number, w: number): Sized["winograd"] {
    const budget = Math.min(SCRATCH_BYTES, this.device.limits.maxStorageBufferBindingSize) / 4;
    let floats = 0;
    let [lh, lw] = [h, w];
    this.convs.forEach(({ conv }, i) => {
      if (this.byWinograd(i, lh * lw)) floats = Math.max(floats, scratchFloatsFor(conv.inC, conv.outC, lh, lw, budget));
      if (poolsAfter(this.specs, i)) [lh, lw] = [lh / 2, lw / 2];
    });
    if (!floats) return undefined;
    this.transformWeights();
    return { v: this.buffer(floats * 4), prod: this.buffer(floats * 4), floats };
  }

  /**
   * Conv i at h×w: forward, relu(conv(src) + bias) into dst; or its input gradient from src, the
   * gradient at the ReLU's output (counted where `act` > 0). By Winograd, or direct (implicit GEMM,
   * split along K over few pixels: ./direct-conv).
   */
  private convStep(
    i: number,
    dir: "forward" | "backward",
    src: GPUBuffer,
    dst: GPUBuffer,
    h: number,
    w: number,
    scratch: Scratch,
    act?: GPUBuffer,
  ): Step[] {
    const { conv, wt, bias, wtT, winograd } = this.convs[i];
    const px = h * w;
    if (this.byWinograd(i, px) && scratch.winograd && winograd) {
      const io = { src, dst, v: scratch.winograd.v, prod: scratch.winograd.prod };
      const [from, to] = dir === "forward" ? [conv.inC, conv.outC] : [conv.outC, conv.inC];
      const buffers = dir === "forward" ? { ...io, u: winograd.u, bias } : { ...io, u: winograd.uT, act };
      return winogradConv(buffers, from, to, h, w, this.convTiles(px), scratch.winograd.floats).map((d) =>
        this.step(d),
      );
    }
    const { M, K, tiles, split } = this.direct(i, dir, px);
    const io = dir === "forward" ? { wt, a: bias, src, dst } : { wt: wtT, a: act!, src, dst };
    return directConv(dir, { ...io, part: scratch.slices }, M, K, h, w, tiles, split).map((d) => this.step(d));
  }

  /** Conv i's direct GEMM at this many pixels: its rows, depth, tiles and split along K. */
  private direct(i: number, dir: "forward" | "backward", px: number) {
    const { inC, outC } = this.convs[i].conv;
    const [M, K] = dir === "forward" ? [outC, inC * 9] : [inC, outC * 9];
    // conv1_1's input gradient has 3 rows (RGB): a 64-row tile would compute 61 rows of nothing.
    const tiles = dir === "backward" && M <= FEW_ROWS.tm ? FEW_ROWS : this.convTiles(px);
    return { M, K, tiles, split: convSlices(M, px, K, tiles) };
  }

  /**
   * Floats of the slices buffer at h×w: the largest partial sums any Gram or split direct
   * convolution (either way) needs; both kinds share it, as their dispatches never overlap.
   */
  private sliceFloats(h: number, w: number): number {
    let floats = 0;
    let [lh, lw] = [h, w];
    this.convs.forEach(({ conv }, i) => {
      const px = lh * lw;
      floats = Math.max(floats, gramSlices(conv.outC, px, SQUARE.tm, SQUARE.tk).slices * conv.outC ** 2);
      if (!this.byWinograd(i, px))
        for (const dir of ["forward", "backward"] as const) {
          const { M, split } = this.direct(i, dir, px);
          if (split.slices > 1) floats = Math.max(floats, split.slices * M * px);
        }
      if (poolsAfter(this.specs, i)) [lh, lw] = [lh / 2, lw / 2];
    });
    return floats;
  }

  /** dst = coef·F·(F∘mask)ᵀ − target: the slices of the pixels in parallel, then their sum. */
  private gram(layer: Layer, target: GPUBuffer, dst: GPUBuffer, coef: number, mask?: GPUBuffer): Step[] {
    const c = layer.conv.outC;
    const px = layer.h * layer.w;
    const { slices, kPer } = gramSlices(c, px, SQUARE.tm, SQUARE.tk);
    const scratch = this.sized!.slices;
    const bufs = mask ? [layer.act, scratch, mask] : [layer.act, scratch];
    const nTiles = Math.ceil(c / SQUARE.tn);
    const partial = this.gemm(gramSpec(mask !== undefined), SQUARE, bufs, c, c, px, 0, 0, 0, kPer, [
      nTiles,
      nTiles,
      slices,
    ]);
    const n = c * c;
    const groups = Math.ceil(n / THREADS);
    const finish = this.step({
      code: GRAM_FINISH,
      params: elementParams(n, slices, 0, 0, 0, coef),
      buffers: [scratch, target, dst],
      groups: [groups, 1, 1],
    });
    return [partial, finish];
  }

  private gemm(
    spec: Parameters<typeof gemmShader>[0],
    tiles: Tiles,
    buffers: GPUBuffer[],
    M: number,
    N: number,
    K: number,
    H: number,
    W: number,
    coef = 0,
    kPer = 0,
    grid?: [number, number, number],
  ): Step {
    const launch = gemmLaunch(tiles, M, N, K, H, W, coef, kPer);
    return this.step({ code: gemmShader(spec, tiles), params: launch.params, buffers, groups: grid ?? launch.groups });
  }

  /** One thread per pooled output element; C, H, W are the pooling's input. */
  private elementwise(code: string, buffers: GPUBuffer[], C: number, H: number, W: number): Step {
    const n = (C * H * W) / 4;
    return this.step({ code, params: elementParams(n, C, H, W, 0, 0), buffers, groups: elementGrid(n) });
  }

  private reduce(
    code: string,
    buffers: GPUBuffer[],
    partials: GPUBuffer,
    at: { offset: number; count: number },
    n: number,
    C: number,
    H: number,
    W: number,
    coef: number,
  ): Step {
    const entries = buffers.map((b, i) => ({ binding: i + 1, resource: { buffer: b } }));
    entries.push({ binding: 9, resource: { buffer: partials } });
    const params = elementParams(n, C, H, W, at.offset, coef);
    return this.step({ code, params, buffers: [], groups: [at.count, 1, 1] }, entries);
  }

  /** A dispatch of this evaluation's, bound (pipelines shared per device: ./dispatch). */
  private step(d: Dispatch, entries?: GPUBindGroupEntry[]): Step {
    return { kind: "dispatch", ...bind(this.device, d, entries) };
  }

  private buffer(size: number, usage = STORAGE | COPY_SRC | COPY_DST): GPUBuffer {
    return this.device.createBuffer({ size: Math.max(16, Math.ceil(size / 4) * 4), usage });
  }
}

/** The loss terms from an evaluation's partial sums, which start at data[at]. */
function lossTerms(plan: LossPlan, data: Float32Array, at: number): Omit<Evaluation, "grad"> {
  const terms: Record<string, number> = { content: 0, style: 0, tv: 0 };
  for (const term of plan.terms) {
    let sum = 0;
    for (let i = 0; i < term.count; i++) sum += data[at + term.offset + i];
    const v = sum * term.factor;
    terms[term.name] = (terms[term.name] ?? 0) + v;
    if (term.name.startsWith("style") && term.name !== "style") terms.style += v;
  }
  const loss = terms.content + terms.style + terms.tv;
  // Finite inputs give no NaN (an overflow to ∞ is the line search's to back off from): a NaN is the GPU's.
  if (Number.isNaN(loss)) throw new GpuError("wrong", "the GPU computed a loss that is not a number (NaN)");
  return { loss, terms };
}

/** WebGPU takes views of plain ArrayBuffers; the engine never hands it shared memory. */
const onHeap = (a: Float32Array) => a as Float32Array<ArrayBuffer>;

const destroy = (buffers: GPUBuffer[]) => {
  for (const b of buffers) b.destroy();
};
const uniformsOf = (steps: Step[]) => steps.flatMap((s) => (s.kind === "dispatch" ? [s.uniform] : []));
