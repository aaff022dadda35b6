// What a GPU allows the engine, and how the engine's GPU failures are told apart: a lost or
// refusing device (stop using it), too little memory or too small buffers (this size only), a
// hung evaluation, numbers that are not numbers. Pure: used by the companion and any browser host alike.
import { SIZE_MULTIPLE } from "../vgg";
import { MAP_MODE_READ } from "./flags";
import { largestBufferBytes, stepFlops } from "./sizes";

/** "wrong": it computed NaN from finite inputs, which our kernels never do. */
export type GpuFailure = "lost" | "refused" | "memory" | "size" | "timeout" | "wrong";

export class GpuError extends Error {
  constructor(
    readonly kind: GpuFailure,
    message: string,
    /** For "size": what did not fit, and the longest side that does. */
    readonly size?: SizeProblem,
  ) {
    super(message);
    this.name = "GpuError";
  }
}

/** The limits to ask a device for: the adapter's largest buffers and workgroups (the defaults are far smaller). */
export function styleDeviceLimits(adapter: { limits: GPUSupportedLimits }): Record<string, number> {
  const l = adapter.limits;
  return {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxStorageBuffersPerShaderStage: Math.min(l.maxStorageBuffersPerShaderStage, 10),
  };
}

/** An image too large for a device: its longest side, the buffer it needs, what the device allows (bytes). */
export interface SizeProblem {
  long: number;
  need: number;
  limit: number;
  /** The longest side that fits (a multiple of SIZE_MULTIPLE, same aspect ratio). */
  largestSide: number;
}

/** Whether an image of width × height fits the device's buffers; if not, why. */
export function sizeProblem(
  convs: readonly { name: string; inC: number; outC: number }[],
  limits: Pick<GPUSupportedLimits, "maxStorageBufferBindingSize" | "maxBufferSize">,
  width: number,
  height: number,
): SizeProblem | undefined {
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const need = largestBufferBytes(convs, height, width);
  if (need <= limit) return undefined;
  const long = Math.max(width, height);
  return {
    long,
    need,
    limit,
    largestSide: Math.floor((long * Math.sqrt(limit / need)) / SIZE_MULTIPLE) * SIZE_MULTIPLE,
  };
}

/**
 * Run `work` with WebGPU's errors turned into GpuErrors: out of memory ("memory"), invalid work
 * ("refused"), a read-back that fails because the device is gone ("lost").
 */
export async function withErrorScopes<T>(device: GPUDevice, work: () => Promise<T>): Promise<T> {
  device.pushErrorScope("out-of-memory");
  device.pushErrorScope("validation");
  let result: T | undefined;
  let thrown: unknown;
  try {
    result = await work();
  } catch (e) {
    thrown = e;
  }
  const validation = await device.popErrorScope();
  const scoped = scopeError(await device.popErrorScope(), validation);
  if (scoped) throw scoped;
  if (thrown) throw thrown;
  return result as T;
}

/** What an out-of-memory scope and a validation scope caught, as the GpuError to throw (memory first). */
export function scopeError(memory: GPUError | null | undefined, validation: GPUError | null | undefined) {
  if (memory) return new GpuError("memory", `the GPU ran out of memory: ${memory.message.split("\n")[0]}`);
  if (validation) return new GpuError("refused", `WebGPU refused the work: ${validation.message.split("\n")[0]}`);
  return undefined;
}

/** Default watchdog: far above any read-back a working GPU needs (a 512 px evaluation takes well under a second). */
export const TIMEOUT_MS = 60_000;

/** An integrated GPU at its slowest runs our convolutions faster than this (FLOP/s). */
const SLOW_GPU_FLOPS = 50e9;

/**
 * The watchdog of one evaluation at h × w: `limit`, or longer where a slow GPU would need longer
 * (about 2 minutes at 2048 px), so that slow is not taken for hung. 0 stays 0 (no watchdog).
 */
export function evaluationTimeoutMs(
  convs: readonly { name: string; inC: number; outC: number }[],
  h: number,
  w: number,
  limit = TIMEOUT_MS,
): number {
  if (limit === 0) return 0;
  return Math.max(limit, (stepFlops(convs, h, w) / SLOW_GPU_FLOPS) * 1000);
}

export interface Watchdog {
  /** A read-back not back after this long counts as a hung GPU; 0: wait for ever (software adapters). */
  timeoutMs?: number;
  /** Why the device was lost, when known (for the message). */
  lost?: () => string | undefined;
}

/**
 * Map a read-back buffer. A device that is gone becomes GpuError "lost"; one that has not answered
 * within the watchdog's time is destroyed (so the work stops; the caller's next device is a new
 * one) and becomes GpuError "timeout".
 */
export async function mapForReading(
  device: GPUDevice,
  staging: GPUBuffer,
  watchdog: Watchdog = {},
  offset?: number,
  size?: number,
): Promise<void> {
  const limit = watchdog.timeoutMs ?? TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<"hung">((resolve) => {
    if (limit > 0) timer = setTimeout(() => resolve("hung"), limit);
  });
  try {
    const r = await Promise.race([staging.mapAsync(MAP_MODE_READ, offset, size), hung]);
    if (r === "hung") {
      device.destroy();
      throw new GpuError("timeout", `the GPU did not finish its work in ${limit / 1000} s`);
    }
  } catch (e) {
    if (e instanceof GpuError) throw e;
    const why = watchdog.lost?.() ?? (e instanceof Error ? e.message : String(e));
    throw new GpuError("lost", `the GPU stopped working: ${why}`);
  } finally {
    clearTimeout(timer);
  }
}
