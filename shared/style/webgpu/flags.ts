// WebGPU's buffer-usage and shader-stage flags as plain numbers: GPUBufferUsage and GPUShaderStage
// are globals only in browsers (and in Node once the `webgpu` package has installed them).
export const MAP_READ = 0x01;
export const COPY_SRC = 0x04;
export const COPY_DST = 0x08;
export const UNIFORM = 0x40;
export const STORAGE = 0x80;
export const QUERY_RESOLVE = 0x200;
/** GPUShaderStage.COMPUTE */
export const COMPUTE = 0x4;
/** GPUMapMode.READ */
export const MAP_MODE_READ = 0x01;
