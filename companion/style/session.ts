// The two style graphs on ONNX Runtime (CPU, CUDA): build (or load from the cache), create sessions
// tuned for speed, and fall back to the CPU with a note if CUDA fails. `openStyleNet` picks the
// device: WebGPU runs on the project's own engine instead (./webgpu-net).
import { availableParallelism } from "node:os";
import * as ort from "onnxruntime-node";
import { checkStyleSize, type Evaluation, type Features, type LossWeights, type Targets } from "../../shared/style/vgg";
import { DEVICE_LABEL, type DeviceName, type DeviceRequest, fallbackNote } from "../../shared/devices";
import type { VectorOps } from "../../shared/style/optim/vectors";
import type { Profile } from "../../shared/style/webgpu/net";
import { markDeviceFailed, pickDevice } from "./devices";
import { buildFeaturesGraph, FEATURE_OUTPUTS } from "./graph/features";
import { buildLossGraph, LOSS_IO } from "./graph/loss";
import { type Pooling, STYLE_LAYERS } from "./graph/vgg";
import { openWebGpuNet } from "./webgpu-net";
import { cachedModel } from "./model-cache";
import type { VggWeights } from "./vgg-weights";

export interface NetOptions {
  pooling: Pooling;
  /** One entry per style term of the loss: whether it has a region mask. */
  masked: boolean[];
  device: DeviceRequest;
  /**
   * Called before the job's work goes to the CPU (chosen, or a GPU's fallback): throws when the
   * computer's memory cannot hold it. A GPU job needs little of it; the CPU engine a lot.
   */
  cpuGuard?: () => void;
  /** WebGPU, for benchmarks: every convolution direct or by Winograd, instead of the adapter's trial's choice. */
  convolutions?: Convolutions;
}

export type Convolutions = "auto" | "direct" | "winograd";

export type OrtNetOptions = Omit<NetOptions, "device"> & { device: "cpu" | "cuda" };

export type { Evaluation, Features, LossWeights, Targets };

/** What the style engine needs from a net, on any device. */
export interface LossNet {
  /** Where it runs now (after any fallback). */
  readonly device: DeviceName;
  /** What the user should know: devices skipped, fallbacks. Grows when a device fails mid-job. */
  readonly notes: string[];
  /** Set once a GPU failed and the work moved to the CPU: the reason, in plain words. */
  readonly fallback?: string;
  /** The WebGPU adapter's name, when on WebGPU. */
  readonly adapter?: string;
  /** WebGPU: how the adapter's trial set the kernels up (tiles, direct or Winograd convolutions), for benchmarks. */
  readonly kernels?: string;
  features(x: Float32Array, h: number, w: number): Promise<Features>;
  evaluate(x: Float32Array, h: number, w: number, t: Targets, lw: LossWeights): Promise<Evaluation>;
  /** Done with it for this job (it may be kept for the next one). */
  release(): Promise<void>;
  /** Refuse (UserError "too-large") an image size the device cannot hold, before any work. */
  check?(width: number, height: number): void;
  /**
   * WebGPU only: make what an evaluation at this size with these targets needs now (a GPU that
   * cannot falls back as an evaluation would), before onDevice reserves the optimiser's vectors.
   */
  prepare?(h: number, w: number, t: Targets, lw: LossWeights): Promise<void>;
  /**
   * WebGPU only: vectors of n floats on the GPU for an optimiser of at most `history` curvature
   * pairs, `reserve` of them allocated now, and the evaluation that reads and writes them (no
   * image or gradient crosses to the host per step). Undefined on the CPU, or when the vectors
   * cannot be had (noted).
   */
  onDevice?(n: number, history: number, reserve: number): Promise<OnDevice | undefined>;
  /** WebGPU only: each kernel's time in one evaluation, for `bench style --profile`. */
  profile?(x: Float32Array, h: number, w: number, t: Targets, lw: LossWeights): Promise<Profile> | undefined;
}

/** An optimiser's vectors on the net's GPU: see LossNet.onDevice. */
export interface OnDevice<V = GPUBuffer> {
  ops: VectorOps<V>;
  /** Loss terms at x; the gradient is written into `grad`. */
  evaluate(x: V, grad: V, h: number, w: number, t: Targets, lw: LossWeights): Promise<Omit<Evaluation, "grad">>;
  /**
   * Runs GPU work; a GPU that fails in it moves the net to the CPU (noted, as for evaluate) and
   * MovedToCpu is thrown: the vectors are gone, the caller starts its work again on the host.
   */
  guard<T>(work: () => Promise<T>): Promise<T>;
  /** Frees the vectors. */
  dispose(): void;
}

/** Thrown by OnDevice.guard: the GPU failed, the net is now on the CPU (see LossNet.fallback). */
export class MovedToCpu extends Error {
  constructor(reason: string) {
    super(`moved to the CPU: ${reason}`);
    this.name = "MovedToCpu";
  }
}

/**
 * A net on the device `opts.device` asks for: CUDA (ONNX Runtime), WebGPU (the project's engine),
 * or the CPU (ONNX Runtime), with the choice and any fallback in `notes`.
 */
export async function openStyleNet(weights: VggWeights, opts: NetOptions): Promise<LossNet> {
  const choice = await pickDevice(opts.device);
  if (choice.device === "webgpu") return openWebGpuNet(weights, opts, choice.notes);
  if (choice.device === "cpu") opts.cpuGuard?.();
  return StyleNet.open(weights, { ...opts, device: choice.device }, choice.notes);
}

/** The last released net waits this long for the next job with the same graphs (sessions take 1–2 s to create). */
const PARK_MS = 60_000;
let parked: { key: string; net: StyleNet; timer: ReturnType<typeof setTimeout> } | undefined;

const f32 = (data: Float32Array, dims: number[]) => new ort.Tensor("float32", data, dims);
const scalar = (v: number) => new ort.Tensor("float32", Float32Array.of(v), []);

/** The ONNX Runtime net (CPU, CUDA). */
export class StyleNet implements LossNet {
  fallback?: string;
  /** See NetOptions.cpuGuard: checked before a CUDA failure moves the job to the CPU. */
  cpuGuard?: () => void;

  private constructor(
    private features_: ort.InferenceSession,
    private loss_: ort.InferenceSession,
    public device: DeviceName,
    public notes: string[],
    private readonly models: { features: Uint8Array; loss: Uint8Array },
    readonly cacheHit: boolean,
  ) {}

  /**
   * Sessions for these weights and options on `opts.device` (already chosen: see openStyleNet),
   * the parked ones if they match, else new ones. `notes`: what the device choice said.
   */
  static async open(weights: VggWeights, opts: OrtNetOptions, notes: string[] = []): Promise<StyleNet> {
    const key = JSON.stringify([weights.hash, opts.pooling, opts.masked, opts.device]);
    if (parked?.key === key) {
      const { net, timer } = parked;
      clearTimeout(timer);
      parked = undefined;
      net.notes = [...notes];
      net.cpuGuard = opts.cpuGuard;
      return net;
    }
    const net = await StyleNet.create(weights, opts, notes);
    net.key = key;
    return net;
  }

  private key = "";

  private static async create(weights: VggWeights, opts: OrtNetOptions, choiceNotes: string[]): Promise<StyleNet> {
    const base = { weights: weights.hash, pooling: opts.pooling };
    const load = async (refresh: boolean) => {
      const feat = await cachedModel(
        { ...base, graph: "features" },
        () => buildFeaturesGraph(weights.convs, opts.pooling),
        refresh,
      );
      const loss = await cachedModel(
        { ...base, graph: "loss", masked: opts.masked },
        () => buildLossGraph(weights.convs, { pooling: opts.pooling, masked: opts.masked }),
        refresh,
      );
      return { models: { features: feat.bytes, loss: loss.bytes }, hit: feat.hit || loss.hit };
    };
    let { models, hit } = await load(false);
    const notes = [...choiceNotes];
    let device: DeviceName = opts.device;
    let fallback: string | undefined;
    let sessions: [ort.InferenceSession, ort.InferenceSession] | undefined;
    while (!sessions) {
      try {
        sessions = await createSessions(models, device === "cpu" ? ["cpu"] : [device, "cpu"]);
      } catch (err) {
        if (device !== "cpu") {
          fallback = await fallbackReason(device, err);
          notes.push(fallbackNote(fallback));
          opts.cpuGuard?.();
          device = "cpu";
        } else if (hit) {
          ({ models, hit } = await load(true)); // a damaged cached model: rebuild it (once: hit is now false)
        } else throw err;
      }
    }
    const net = new StyleNet(sessions[0], sessions[1], device, notes, models, hit);
    net.fallback = fallback;
    net.cpuGuard = opts.cpuGuard;
    return net;
  }

  /** Content features and style Grams of a preprocessed image [3, h, w]. */
  async features(x: Float32Array, h: number, w: number): Promise<Features> {
    checkStyleSize(h, w);
    const out = await this.guard(() => this.features_.run({ image: f32(x, [1, 3, h, w]) }));
    return {
      content: out[FEATURE_OUTPUTS.content].data as Float32Array,
      grams: STYLE_LAYERS.map((_, i) => out[FEATURE_OUTPUTS.gram(i)].data as Float32Array),
    };
  }

  /** Loss terms and the gradient w.r.t. the preprocessed image [3, h, w]. */
  async evaluate(x: Float32Array, h: number, w: number, t: Targets, lw: LossWeights): Promise<Evaluation> {
    checkStyleSize(h, w);
    const feeds: Record<string, ort.Tensor> = {
      [LOSS_IO.image]: f32(x, [1, 3, h, w]),
      [LOSS_IO.contentTarget]: f32(t.content, [1, t.content.length / ((h * w) / 64), h / 8, w / 8]),
      [LOSS_IO.contentWeight]: scalar(lw.content),
      [LOSS_IO.tvWeight]: scalar(lw.tv),
    };
    t.grams.forEach((grams, k) => {
      feeds[LOSS_IO.styleWeight(k)] = scalar(lw.style[k]);
      grams.forEach((gm, l) => {
        const c = Math.round(Math.sqrt(gm.length));
        feeds[LOSS_IO.gram(k, l)] = f32(gm, [c, c]);
        feeds[LOSS_IO.styleScale(k, l)] = scalar(t.styleScales[k][l]);
      });
      const mask = t.masks[k];
      if (mask) feeds[LOSS_IO.mask(k)] = f32(mask, [1, 1, h, w]);
    });
    const out = await this.guard(() => this.loss_.run(feeds));
    const num = (name: string) => (out[name].data as Float32Array)[0];
    const terms: Record<string, number> = {
      content: num(LOSS_IO.content),
      style: num(LOSS_IO.style),
      tv: num(LOSS_IO.tv),
    };
    if (t.grams.length > 1) for (let k = 0; k < t.grams.length; k++) terms[`style${k}`] = num(LOSS_IO.styleTerm(k));
    return { loss: num(LOSS_IO.loss), terms, grad: out[LOSS_IO.grad].data as Float32Array };
  }

  /** Done with it: park it for the next job (one net, for PARK_MS), freeing whatever was parked before. */
  async release(): Promise<void> {
    const previous = parked;
    const timer = setTimeout(() => {
      if (parked?.net === this) parked = undefined;
      this.dispose().catch(() => {});
    }, PARK_MS);
    // A parked net never keeps the process alive. (The cast: Figma's typings also declare setTimeout.)
    (timer as unknown as NodeJS.Timeout).unref();
    parked = { key: this.key, net: this, timer };
    if (previous) {
      clearTimeout(previous.timer);
      await previous.net.dispose();
    }
  }

  /** Free the native sessions now. */
  async dispose(): Promise<void> {
    await Promise.all([this.features_.release(), this.loss_.release()]);
  }

  /** A GPU provider that fails mid-job: note it, move both graphs to the CPU and retry once. */
  private async guard<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (this.device === "cpu") throw err;
      this.fallback = await fallbackReason(this.device, err);
      this.notes.push(fallbackNote(this.fallback));
      this.cpuGuard?.();
      const old = [this.features_, this.loss_];
      [this.features_, this.loss_] = await createSessions(this.models, ["cpu"]);
      this.device = "cpu";
      await Promise.all(old.map((s) => s.release().catch(() => {})));
      return run();
    }
  }
}

async function createSessions(models: { features: Uint8Array; loss: Uint8Array }, providers: string[]) {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: providers,
    graphOptimizationLevel: "all",
    intraOpNumThreads: availableParallelism(),
    executionMode: "sequential",
  };
  const features = await ort.InferenceSession.create(models.features, options);
  const loss = await ort.InferenceSession.create(models.loss, options);
  return [features, loss] as [ort.InferenceSession, ort.InferenceSession];
}

/** Say why a GPU failed, in one line; unless `mark` is false, record it so that later `auto` picks skip it. */
export async function fallbackReason(device: DeviceName, err: unknown, mark = true): Promise<string> {
  const why = (err instanceof Error ? err.message : String(err)).split("\n")[0];
  if (mark) await markDeviceFailed(device, why);
  return `${DEVICE_LABEL[device]} failed: ${why}`;
}

export { fallbackNote };
