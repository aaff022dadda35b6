// Before a tile candidate is timed, it computes a small convolution and its input gradient, and
// the results are checked against plain JavaScript: a driver that miscompiles one tile size (it
// happens) loses that candidate, instead of every job on that GPU getting a wrong gradient.
import { CONV_BACKWARD, CONV_FORWARD, type GemmSpec, gemmLaunch, gemmShader, type Tiles } from "./gemm";

/** Odd sizes, so that every edge of the output has partial tiles. */
const C = 20;
const SIDE = 13;

const STORAGE = 0x80;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const UNIFORM = 0x40;
const MAP_READ = 0x01;

/** Deterministic values in (−1, 1). */
function values(n: number, seed: number) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 12.9898 + seed) * 0.9;
  return out;
}

/**
 * What the convolution kernels compute, in JavaScript: forward relu(conv3x3(src) + bias) (a = bias,
 * b = src), or the input gradient conv3x3 over the gradient where the activation is > 0 (a = the
 * activation, b = the gradient; the weights already flipped and transposed). Weights k-major
 * ([in·9][out]) as the kernels read them.
 */
function reference(kind: Kind, wt: Float32Array, a: Float32Array, b: Float32Array): Float32Array {
  const px = SIDE * SIDE;
  const out = new Float32Array(C * px);
  for (let m = 0; m < C; m++)
    for (let y = 0; y < SIDE; y++)
      for (let x = 0; x < SIDE; x++) {
        let sum = kind === "forward" ? a[m] : 0;
        for (let i = 0; i < C; i++)
          for (let tap = 0; tap < 9; tap++) {
            const sy = y + Math.floor(tap / 3) - 1;
            const sx = x + (tap % 3) - 1;
            if (sy < 0 || sx < 0 || sy >= SIDE || sx >= SIDE) continue;
            const at = i * px + sy * SIDE + sx;
            const v = kind === "forward" ? b[at] : a[at] > 0 ? b[at] : 0;
            sum += wt[(i * 9 + tap) * C + m] * v;
          }
        out[m * px + y * SIDE + x] = kind === "forward" ? Math.max(sum, 0) : sum;
      }
  return out;
}

type Kind = "forward" | "backward";

/** The pipeline of a GEMM (a convolution unless a test says otherwise) with these tiles. */
export function gemmPipeline(device: GPUDevice, tiles: Tiles, spec: GemmSpec = CONV_FORWARD): GPUComputePipeline {
  return device.createComputePipeline({
    layout: "auto",
    compute: { module: device.createShaderModule({ code: gemmShader(spec, tiles) }), entryPoint: "main" },
  });
}

const verdicts = new WeakMap<GPUDevice, Map<string, Promise<boolean>>>();

/**
 * Whether the convolution and its input gradient with these tiles compute right on this device
 * (asked once per device and tiles: the wide and the deep trial share the answer).
 */
export function tilesComputeRightly(device: GPUDevice, tiles: Tiles): Promise<boolean> {
  const known = verdicts.get(device) ?? new Map<string, Promise<boolean>>();
  verdicts.set(device, known);
  const key = JSON.stringify(tiles);
  let verdict = known.get(key);
  if (!verdict) {
    verdict = (async () =>
      (await gemmComputesRightly(device, tiles, CONV_FORWARD, "forward")) &&
      (await gemmComputesRightly(device, tiles, CONV_BACKWARD, "backward")))();
    known.set(key, verdict);
    verdict.catch(() => known.delete(key)); // a failure (a lost device) is not a verdict
  }
  return verdict;
}

/**
 * Whether `spec` (a convolution of `kind`; tests pass broken ones) with these tiles computes right:
 * within 1e-4 of the largest output, about a hundred times float32's rounding here.
 */
export async function gemmComputesRightly(device: GPUDevice, tiles: Tiles, spec: GemmSpec, kind: Kind) {
  const px = SIDE * SIDE;
  const wt = values(C * 9 * C, 1);
  const a = kind === "forward" ? values(C, 2) : values(C * px, 4);
  const b = values(C * px, 3);
  const want = reference(kind, wt, a, b);
  const made: GPUBuffer[] = [];
  const buffer = (bytes: number, usage: number, data?: ArrayBufferView<ArrayBuffer>) => {
    const buf = device.createBuffer({ size: bytes, usage });
    made.push(buf);
    if (data) device.queue.writeBuffer(buf, 0, data);
    return buf;
  };
  try {
    const pipeline = gemmPipeline(device, tiles, spec);
    const launch = gemmLaunch(tiles, C, px, C * 9, SIDE, SIDE);
    const params = buffer(32, UNIFORM | COPY_DST, new Uint8Array(launch.params));
    const dst = buffer(C * px * 4, STORAGE | COPY_SRC);
    const inputs = [wt, a, b].map((d) => buffer(d.byteLength, STORAGE | COPY_DST, d));
    const read = buffer(C * px * 4, MAP_READ | COPY_DST);
    const bind = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [params, ...inputs, dst].map((buf, i) => ({ binding: i, resource: { buffer: buf } })),
    });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(...launch.groups);
    pass.end();
    enc.copyBufferToBuffer(dst, 0, read, 0, C * px * 4);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(1); // GPUMapMode.READ
    const got = new Float32Array(read.getMappedRange().slice(0));
    read.unmap();
    const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    return want.every((v, i) => Math.abs(got[i] - v) <= 1e-4 * scale);
  } finally {
    for (const buf of made) buf.destroy();
  }
}
