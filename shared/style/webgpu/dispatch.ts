// Dispatch lists (the GEMM and Winograd descriptions) made ready to record: a pipeline, a uniform
// buffer and a bind group each. For the checks and the tile trial, which run them a few times;
// the net records its own steps once per size, with pipelines cached per device.
import type { Dispatch } from "./gemm";
import { COPY_DST, UNIFORM } from "./flags";

export interface Recordable {
  record(pass: GPUComputePassEncoder): void;
  destroy(): void;
}

export function recordable(device: GPUDevice, dispatches: Dispatch[]): Recordable {
  const modules = new Map<string, GPUComputePipeline>();
  const uniforms: GPUBuffer[] = [];
  const ready = dispatches.map((d) => {
    let pipeline = modules.get(d.code);
    if (!pipeline) {
      pipeline = device.createComputePipeline({
        layout: "auto",
        compute: { module: device.createShaderModule({ code: d.code }), entryPoint: "main" },
      });
      modules.set(d.code, pipeline);
    }
    const params = device.createBuffer({ size: 32, usage: UNIFORM | COPY_DST });
    uniforms.push(params);
    device.queue.writeBuffer(params, 0, d.params);
    const bind = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [params, ...d.buffers].map((buffer, i) => ({ binding: i, resource: { buffer } })),
    });
    return { pipeline, bind, groups: d.groups };
  });
  return {
    record(pass) {
      for (const r of ready) {
        pass.setPipeline(r.pipeline);
        pass.setBindGroup(0, r.bind);
        pass.dispatchWorkgroups(...r.groups);
      }
    },
    destroy() {
      for (const u of uniforms) u.destroy();
    },
  };
}
