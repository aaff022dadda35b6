// Dispatches (./gemm's Dispatch: WGSL, uniforms, buffers, grid) made ready to record: a pipeline,
// made once per device and code and shared by the net, the checks and the tile trial (so the
// trial's compiles serve the first job), and a uniform buffer and bind group of their own.
import type { Dispatch } from "./gemm";
import { COPY_DST, UNIFORM } from "./flags";

export interface Bound {
  pipeline: GPUComputePipeline;
  bind: GPUBindGroup;
  groups: [number, number, number];
  /** Its own uniform buffer: the caller destroys it. */
  uniform: GPUBuffer;
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

function pipelineFor(device: GPUDevice, code: string): GPUComputePipeline {
  const cache = pipelines.get(device) ?? new Map<string, GPUComputePipeline>();
  pipelines.set(device, cache);
  let p = cache.get(code);
  if (!p) {
    p = device.createComputePipeline({
      layout: "auto",
      compute: { module: device.createShaderModule({ code }), entryPoint: "main" },
    });
    cache.set(code, p);
  }
  return p;
}

/** `d` bound: its uniforms at @binding(0), then `entries` (default: its buffers from @binding(1) on). */
export function bind(
  device: GPUDevice,
  d: Dispatch,
  entries: GPUBindGroupEntry[] = d.buffers.map((b, i) => ({ binding: i + 1, resource: { buffer: b } })),
): Bound {
  const pipeline = pipelineFor(device, d.code);
  const uniform = device.createBuffer({ size: 32, usage: UNIFORM | COPY_DST });
  device.queue.writeBuffer(uniform, 0, d.params);
  const group = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: uniform } }, ...entries],
  });
  return { pipeline, bind: group, groups: d.groups, uniform };
}

export function record(pass: GPUComputePassEncoder, b: Bound): void {
  pass.setPipeline(b.pipeline);
  pass.setBindGroup(0, b.bind);
  pass.dispatchWorkgroups(...b.groups);
}

export interface Recordable {
  record(pass: GPUComputePassEncoder): void;
  destroy(): void;
}

/** Dispatches bound once, for the checks and the trial, which record them a few times. */
export function recordable(device: GPUDevice, dispatches: Dispatch[]): Recordable {
  const bound = dispatches.map((d) => bind(device, d));
  return {
    record(pass) {
      for (const b of bound) record(pass, b);
    },
    destroy() {
      for (const b of bound) b.uniform.destroy();
    },
  };
}
