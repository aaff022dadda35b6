// A WebGPU device in Node, from the `webgpu` package (Google's Dawn: Vulkan, Metal, Direct3D 12).
// One per process, asked for the adapter's largest buffers; software adapters (SwiftShader,
// llvmpipe) are named as such so that `auto` never picks them.

import { styleDeviceLimits } from "../../shared/style/webgpu/limits";

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation of the API (SwiftShader, llvmpipe, WARP): slower than our CPU engine. */
  software: boolean;
}

export interface GpuHandle {
  device: GPUDevice;
  adapter: AdapterInfo;
}

let opened: Promise<GpuHandle> | undefined;
/** Dawn's instance: it must outlive every device made from it (collected, it takes them down). */
let instance: GPU | undefined;

/** The process's WebGPU device (made on first call). Rejects with a plain reason when there is none. */
export function openWebGpu(): Promise<GpuHandle> {
  opened ??= open().catch((err) => {
    opened = undefined; // let a later call try again (a driver being installed, a GPU reset)
    throw err;
  });
  return opened;
}

async function open(): Promise<GpuHandle> {
  let mod: typeof import("webgpu");
  try {
    mod = await import("webgpu");
  } catch (err) {
    throw new Error(`the WebGPU runtime (npm package "webgpu") cannot load here: ${firstLine(err)}`);
  }
  Object.assign(globalThis, mod.globals);
  // Exact GPU timestamps for `bench style --profile` (Dawn rounds them to 65 µs by default, a
  // browser's guard against timing attacks; this process runs only our own shaders).
  instance ??= mod.create(["disable-dawn-features=timestamp_quantization"]);
  const adapter = await instance.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) {
    throw new Error(
      process.platform === "linux"
        ? "no WebGPU adapter: no Vulkan driver found (install your GPU's Vulkan driver and libvulkan1)"
        : "no WebGPU adapter found",
    );
  }
  const info = describeAdapter(adapter.info as GPUAdapterInfo & RawAdapterInfo);
  const requiredFeatures: GPUFeatureName[] = adapter.features.has("timestamp-query") ? ["timestamp-query"] : [];
  const device = await adapter.requestDevice({ requiredLimits: styleDeviceLimits(adapter), requiredFeatures });
  device.lost.then(() => {
    opened = undefined; // the next job asks for a new device
  });
  return { device, adapter: info };
}

/** What GPUAdapterInfo carries (Dawn reports isFallbackAdapter on it). */
export interface RawAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter?: boolean;
}

export function describeAdapter(i: RawAdapterInfo): AdapterInfo {
  const text = `${i.vendor} ${i.architecture} ${i.device} ${i.description}`;
  // SwiftShader and llvmpipe also say who they are, for drivers that do not flag a fallback.
  const fallback = i.isFallbackAdapter === true;
  return {
    vendor: i.vendor,
    architecture: i.architecture,
    device: i.device,
    description: i.description,
    software: fallback || /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render/i.test(text),
  };
}

/** "nvidia (hopper) NVIDIA H200", "google (swiftshader) SwiftShader driver 5.0.0". */
export function adapterName(a: AdapterInfo): string {
  const name = [a.vendor, a.architecture && `(${a.architecture})`, a.description || a.device].filter(Boolean).join(" ");
  return name || "unnamed adapter";
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0];
}
