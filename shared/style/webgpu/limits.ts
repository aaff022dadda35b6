// What a GPU allows the engine, and how the engine's GPU failures are told apart: a lost or
// refusing device (stop using it), too little memory or too small buffers (this size only), a
// hung evaluation. Pure: used by the companion and any browser host alike.
import { largestBufferBytes } from "./sizes";

export type GpuFailure = "lost" | "refused" | "memory" | "size" | "timeout";

export class GpuError extends Error {
  constructor(
    readonly kind: GpuFailure,
    message: string,
    /** For "size": the longest side that fits, in px. */
    readonly largestSide?: number,
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

/**
 * Whether an image of width × height fits the device's buffers; if not, the longest side that does
 * (a multiple of 16, same aspect ratio).
 */
export function sizeProblem(
  convs: readonly { name: string; inC: number; outC: number }[],
  limits: Pick<GPUSupportedLimits, "maxStorageBufferBindingSize" | "maxBufferSize">,
  width: number,
  height: number,
): { need: number; limit: number; largestSide: number } | undefined {
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const need = largestBufferBytes(convs, height, width);
  if (need <= limit) return undefined;
  const long = Math.max(width, height);
  return { need, limit, largestSide: Math.floor((long * Math.sqrt(limit / need)) / 16) * 16 };
}
