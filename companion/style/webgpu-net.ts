// The style engine's WebGPU net in the companion: the shared engine (shared/style/webgpu) on the
// process's Dawn device, with tile sizes measured once per adapter, the device's buffer limits
// checked before any work, and a GPU that fails (at start or mid-job) replaced by the CPU net —
// never silently: `fallback` and `notes` say why.
import { GpuError, type SizeProblem, sizeProblem } from "../../shared/style/webgpu/limits";
import { WebGpuStyleNet } from "../../shared/style/webgpu/net";
import { GpuVectors } from "../../shared/style/webgpu/vectors";
import type { Tiles } from "../../shared/style/webgpu/gemm";
import {
  chooseTiles,
  GPU_TRIAL,
  SMALL_TRIAL,
  type TileChoice,
  type WinogradTrial,
} from "../../shared/style/webgpu/tiles";
import { UserError } from "../errors";
import { type DeviceName, type DeviceRequest, pickDevice } from "./devices";
import { noiseNetwork } from "./pixels";
import {
  type Evaluation,
  type Features,
  fallbackNote,
  fallbackReason,
  type LossNet,
  type LossWeights,
  MovedToCpu,
  type NetOptions,
  type OnDevice,
  StyleNet,
  type Targets,
} from "./session";
import { narrowedConvs, randomVggWeights, type VggWeights } from "./vgg-weights";
import { knownTiles, rememberTiles } from "./tile-cache";
import { adapterName, openWebGpu } from "./webgpu-device";

/** The warm-up under way, if any: jobs wait for it, as GPU work on one device runs one at a time. */
let warming: Promise<unknown> = Promise.resolve();

export async function openWebGpuNet(weights: VggWeights, opts: NetOptions, notes: string[]): Promise<LossNet> {
  // Error scopes are a stack per device: two flows of work at once would pop each other's.
  await warming;
  return openNet(weights, opts, notes);
}

async function openNet(weights: VggWeights, opts: NetOptions, notes: string[]): Promise<LossNet> {
  const cpu = () => {
    opts.cpuGuard?.();
    return StyleNet.open(weights, { ...opts, device: "cpu" });
  };
  try {
    const { device, adapter } = await openWebGpu();
    const name = adapterName(adapter);
    const known = await knownTiles(name);
    const choice = await chooseTiles(device, adapter.software ? SMALL_TRIAL : GPU_TRIAL, known);
    const { tiles, deepTiles } = choice;
    const forced = opts.convolutions === "auto" ? undefined : opts.convolutions;
    const all = forced === "winograd";
    const winograd = forced ? { wide: all, deep: all, minChannels: 0 } : choice.winograd;
    if (choice.trials.length) await rememberTiles(name, choice).catch(() => {}); // a read-only cache only costs the trial
    const key = `${weights.hash} ${opts.pooling} ${JSON.stringify(winograd)}`;
    const timeoutMs = adapter.software ? 0 : undefined; // a CPU driver may take minutes: no watchdog
    const net =
      unpark(device, key) ??
      WebGpuStyleNet.create(device, weights.convs, { pooling: opts.pooling, tiles, deepTiles, winograd, timeoutMs });
    netKeys.set(net, key);
    const gpuNet = new WebGpuLossNet(net, weights, device.limits, name, [...notes], cpu);
    gpuNet.kernels = describeChoice(choice) + (forced ? ` — all ${forced} here, as asked` : "");
    return gpuNet;
  } catch (err) {
    const reason = await fallbackReason("webgpu", err);
    const net = await cpu();
    net.notes = [...notes, fallbackNote(reason)];
    net.fallback = reason;
    return net;
  }
}

class WebGpuLossNet implements LossNet {
  device: DeviceName = "webgpu";
  fallback?: string;
  adapter?: string;
  kernels?: string;
  private cpu?: LossNet;

  constructor(
    private readonly gpu: WebGpuStyleNet,
    private readonly weights: VggWeights,
    private readonly limits: GPUSupportedLimits,
    adapter: string,
    readonly notes: string[],
    private readonly openCpu: () => Promise<LossNet>,
  ) {
    this.adapter = adapter;
  }

  check(width: number, height: number): void {
    if (!this.cpu) checkGpuSize(this.weights.convs, this.limits, this.adapter ?? "", width, height);
  }

  features(x: Float32Array, h: number, w: number): Promise<Features> {
    return this.run(
      () => this.gpu.features(x, h, w),
      (cpu) => cpu.features(x, h, w),
    );
  }

  evaluate(x: Float32Array, h: number, w: number, t: Targets, lw: LossWeights): Promise<Evaluation> {
    return this.run(
      () => this.gpu.evaluate(x, h, w, t, lw),
      (cpu) => cpu.evaluate(x, h, w, t, lw),
    );
  }

  prepare(h: number, w: number, t: Targets, lw: LossWeights): Promise<void> {
    return this.run(
      () => this.gpu.prepare(h, w, t, lw),
      async () => {},
    );
  }

  async onDevice(n: number, history: number, reserve: number): Promise<OnDevice | undefined> {
    if (this.cpu) return undefined;
    let ops: GpuVectors;
    try {
      ops = await GpuVectors.create(this.gpu.device, n, history, reserve, { timeoutMs: this.gpu.timeoutMs });
    } catch (err) {
      if (!(err instanceof GpuError)) throw err;
      // Out of memory, or kernels this GPU refuses: the evaluations can still run here, so only
      // the optimiser's vectors stay on the host. A device truly gone fails the next evaluation.
      const note = `The optimiser's vectors stay on the CPU (slower): ${err.message}.`;
      if (!this.notes.includes(note)) this.notes.push(note);
      return undefined;
    }
    const { gpu } = this;
    return {
      ops,
      evaluate: async (x, grad, h, w, t, lw) => {
        const e = await gpu.evaluateOnGpu(x, grad, h, w, t, lw);
        this.noteGpuChanges();
        return e;
      },
      guard: async (work) => {
        try {
          return await work();
        } catch (thrown) {
          if (!(thrown instanceof GpuError)) throw thrown;
          // A vector made beyond the reserve may be what failed: its own error names the cause.
          await this.moveToCpu((await ops.settle().catch((e: unknown) => e)) ?? thrown);
          throw new MovedToCpu(this.fallback ?? thrown.message);
        }
      },
      dispose: () => ops.dispose(),
    };
  }

  /** Per-kernel times of one evaluation (see WebGpuStyleNet.profile); undefined once on the CPU. */
  profile(x: Float32Array, h: number, w: number, t: Targets, lw: LossWeights) {
    return this.cpu ? undefined : this.gpu.profile(x, h, w, t, lw);
  }

  async release(): Promise<void> {
    if (this.cpu) await this.cpu.release();
    else park(this.gpu);
  }

  /** On the GPU; if it fails, on the CPU from then on, with the reason noted. */
  private async run<T>(onGpu: () => Promise<T>, onCpu: (cpu: LossNet) => Promise<T>) {
    if (this.cpu) return onCpu(this.cpu);
    try {
      const out = await onGpu();
      this.noteGpuChanges();
      return out;
    } catch (err) {
      return onCpu(await this.moveToCpu(err));
    }
  }

  /** What the GPU net changed on its own (Winograd given up for memory) goes into the job's notes, once. */
  private noteGpuChanges(): void {
    const dropped = this.gpu.winogradDropped;
    if (dropped && !this.notes.includes(dropped)) this.notes.push(dropped);
  }

  /** The GPU failed: from now on the CPU, with the reason noted. Other errors are thrown again. */
  private async moveToCpu(err: unknown): Promise<LossNet> {
    if (!(err instanceof GpuError)) throw err; // a bug of ours, not the GPU's: the CPU would not help
    if (err.size) throw sizeError(err.size, this.adapter ?? ""); // the size, not the GPU: no fallback
    // Out of memory is this job's size on this GPU, not a broken device; a NaN may be this job's
    // inputs (damaged weights) as well as the GPU's: later jobs may use it.
    this.fallback = await fallbackReason("webgpu", err, err.kind !== "memory" && err.kind !== "wrong");
    this.notes.push(fallbackNote(this.fallback));
    this.gpu.dispose();
    this.device = "cpu";
    this.adapter = undefined;
    this.kernels = undefined;
    this.cpu = await this.openCpu();
    return this.cpu;
  }
}

/**
 * Compile the engine's pipelines and settle its tiles in the background when the companion starts,
 * so that the first job does not pay for them — only where `auto` would use WebGPU (a hardware
 * adapter, no CUDA). Returns whether it warmed anything; a GPU that fails here is noted like at a
 * job's start (later jobs skip it), and the job that would have used it says so.
 */
export function warmWebGpu(request: DeviceRequest = "auto"): Promise<boolean> {
  const done = warming.then(() => warm(request));
  warming = done.catch(() => {});
  return done;
}

async function warm(request: DeviceRequest): Promise<boolean> {
  if ((await pickDevice(request)).device !== "webgpu") return false;
  const opts: NetOptions = { pooling: "max", masked: [false], device: "webgpu" };
  // Shaders do not depend on the channel counts: a narrow VGG compiles the same pipelines in a
  // fraction of the time; 96×64 px puts conv1 on the wide tiles and the rest on the deep ones.
  const net = await openNet(randomVggWeights(0, narrowedConvs(8)), opts, []);
  try {
    if (net.device !== "webgpu") return false;
    const [h, w] = [64, 96];
    const x = noiseNetwork(w, h, 0);
    const f = await net.features(x, h, w);
    const t: Targets = { content: f.content, grams: [f.grams], masks: [undefined], styleScales: [[1, 1, 1, 1, 1]] };
    await net.evaluate(x, h, w, t, { content: 1, tv: 1e-3, style: [1] });
    (await net.onDevice?.(x.length, 1, 0))?.dispose(); // the optimiser's pipelines
    return true;
  } finally {
    await net.release();
  }
}

/** The trial's outcome in a line: tiles, and which convolutions by Winograd, with the times that decided. */
export function describeChoice(c: TileChoice): string {
  const tiles = (t: Tiles) => `${t.tm}×${t.tn}×${t.tk}, ${t.rm}×${4 * (t.cn ?? 1)} a thread`;
  const ms = (v?: number) => (v === undefined ? "failed" : v.toFixed(2));
  const times = (ts: WinogradTrial[]) =>
    ts.length
      ? ` (trial, direct/Winograd ms: ${ts.map((t) => `${t.channels} ch ${ms(t.direct)}/${ms(t.winograd)}`).join(", ")})`
      : " (measured earlier)";
  const { wide, deep, minChannels } = c.winograd;
  const wideHow = wide ? `Winograd from ${minChannels} channels` : "direct";
  const deepTrial = c.winogradTrials.deep;
  return (
    `GEMM tiles ${tiles(c.tiles)} (wide layers), ${tiles(c.deepTiles)} (deep); ` +
    `convolutions: wide ${wideHow}${times(c.winogradTrials.wide ?? [])}, ` +
    `deep ${deep ? "Winograd" : "direct"}${times(deepTrial ? [deepTrial] : [])}`
  );
}

/** Refuse (UserError "too-large") a size whose largest buffer the device cannot hold, naming the largest that fits. */
export function checkGpuSize(
  convs: VggWeights["convs"],
  limits: Pick<GPUSupportedLimits, "maxStorageBufferBindingSize" | "maxBufferSize">,
  adapter: string,
  width: number,
  height: number,
): void {
  const p = sizeProblem(convs, limits, width, height);
  if (p) throw sizeError(p, adapter);
}

/** The one wording of a size the GPU cannot hold. */
function sizeError(p: SizeProblem, adapter: string): UserError {
  return new UserError(
    "too-large",
    `A ${p.long} px style transfer needs GPU buffers of ${gb(p.need)}; this GPU (${adapter}) allows ${gb(p.limit)}. Choose a smaller size (at most ${p.largestSide} px).`,
  );
}

/**
 * The last job's net waits PARK_MS for the next job with the same weights: its weights and buffers
 * stay on the GPU (uploading VGG-19 and allocating a size's buffers take a noticeable part of a
 * short job).
 */
const PARK_MS = 60_000;
const netKeys = new WeakMap<WebGpuStyleNet, string>();
let parked: { net: WebGpuStyleNet; timer: ReturnType<typeof setTimeout> } | undefined;

function park(net: WebGpuStyleNet): void {
  if (parked) {
    clearTimeout(parked.timer);
    if (parked.net !== net) parked.net.dispose();
    parked = undefined;
  }
  if (net.isDisposed) return;
  net.dropPlan(); // keep the weights and the size's buffers, not the last job's Grams
  const timer = setTimeout(() => {
    if (parked?.net === net) parked = undefined;
    net.dispose();
  }, PARK_MS);
  (timer as unknown as NodeJS.Timeout).unref(); // a parked net never keeps the process alive
  parked = { net, timer };
}

/** The parked net if it suits this job; one that does not is freed now, before a new one is made. */
function unpark(device: GPUDevice, key: string): WebGpuStyleNet | undefined {
  if (!parked) return undefined;
  const { net, timer } = parked;
  clearTimeout(timer);
  parked = undefined;
  if (net.device === device && netKeys.get(net) === key && !net.isDisposed) return net;
  net.dispose();
  return undefined;
}

const gb = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GB`;
