// The direct 3×3 convolution (implicit GEMM, gemm.ts) and its input gradient as dispatches: one
// GEMM; or, over few pixels, the GEMM split along K and its slices summed after.
//
// Why split: a convolution over few pixels (the deep layers at a job's coarse scales: conv5_1 at
// 128 px is 8×8 pixels, a single tile wide) has a handful of tiles, so most of a large GPU idles
// while each workgroup loops over all of K (512·9). Slice s of the products goes to part[s][M][N]
// and a second pass adds the slices up (with bias + ReLU for the forward).
import { CONV_BACKWARD, CONV_FORWARD, type Dispatch, type GemmSpec, gemmLaunch, gemmShader, type Tiles } from "./gemm";
import { ELEMENT, elementGrid, elementParams, PARAMS } from "./kernels";

/** Workgroups a split GEMM aims at: more than any GPU runs at once (an H200 has 132 SMs). */
const FILL = 512;
/** K per slice at least this (64 channels' taps: 36 steps of a 16-deep tile), so a slice is worth a workgroup. */
const MIN_K_PER_SLICE = 576;

/**
 * How a convolution GEMM (M×N, K deep) on these tiles is split along K: into as many slices as
 * bring it near FILL workgroups, each at least MIN_K_PER_SLICE deep; one when it has tiles enough.
 */
export function convSlices(M: number, N: number, K: number, t: Tiles): { slices: number; kPer: number } {
  const tiles = Math.ceil(M / t.tm) * Math.ceil(N / t.tn);
  const wanted = Math.max(1, Math.min(Math.ceil(FILL / tiles), Math.floor(K / MIN_K_PER_SLICE)));
  if (wanted === 1) return { slices: 1, kPer: K };
  const kPer = Math.ceil(Math.ceil(K / wanted) / t.tk) * t.tk;
  return { slices: Math.ceil(K / kPer), kPer };
}

/** Slice `slice` of the products to part[slice][M][N] (bound as dst), unfinished. */
const SLICE_STORE = "dst[(slice * p.M + m) * p.N + n] = v;";
/** The forward's slices, without the bias (the sum adds it; a binding no code reads is an error). */
const SLICED_FORWARD: GemmSpec = {
  ...CONV_FORWARD,
  bindings: `
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;`,
  store: SLICE_STORE,
  splitK: true,
};
const SLICED_BACKWARD: GemmSpec = { ...CONV_BACKWARD, store: SLICE_STORE, splitK: true };

/**
 * The slices added up: forward relu(Σ_s part[s] + bias), backward the sum alone. n = M·N,
 * C = the number of slices, H = N (element e's row is e / N).
 */
export function convFinish(dir: "forward" | "backward"): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
${dir === "forward" ? "@group(0) @binding(3) var<storage, read> bias: array<f32>;" : ""}
${ELEMENT}
  var sum = 0.0;
  for (var s = 0u; s < p.C; s++) { sum += part[s * p.n + e]; }
  dst[e] = ${dir === "forward" ? "max(sum + bias[e / p.H], 0.0)" : "sum"};
}`;
}

/** Buffers of a direct convolution: k-major weights, and the bias (forward) or the activation (backward). */
export interface DirectConvIo {
  wt: GPUBuffer;
  /** Forward: the bias; backward: the layer's output, whose > 0 masks the gradient. */
  a: GPUBuffer;
  src: GPUBuffer;
  dst: GPUBuffer;
  /** The slices' partial sums, convSlices(…).slices·M·N floats, when split. */
  part?: GPUBuffer;
}

/**
 * relu(conv(src) + bias) (forward: M = out channels, K = in·9) or the input gradient (backward:
 * M = in channels, K = out·9) at H×W, in `split.slices` slices of K (from convSlices; 1: one GEMM).
 */
export function directConv(
  dir: "forward" | "backward",
  io: DirectConvIo,
  M: number,
  K: number,
  H: number,
  W: number,
  t: Tiles,
  split: { slices: number; kPer: number } = { slices: 1, kPer: K },
): Dispatch[] {
  const N = H * W;
  if (split.slices === 1) {
    const launch = gemmLaunch(t, M, N, K, H, W);
    return [
      {
        code: gemmShader(dir === "forward" ? CONV_FORWARD : CONV_BACKWARD, t),
        params: launch.params,
        buffers: [io.wt, io.a, io.src, io.dst],
        groups: launch.groups,
      },
    ];
  }
  if (!io.part) throw new Error("a split convolution needs a buffer for its slices");
  const launch = gemmLaunch(t, M, N, K, H, W, 0, split.kPer);
  const n = M * N;
  return [
    {
      code: gemmShader(dir === "forward" ? SLICED_FORWARD : SLICED_BACKWARD, t),
      params: launch.params,
      buffers: dir === "forward" ? [io.wt, io.src, io.part] : [io.wt, io.a, io.src, io.part],
      groups: [Math.ceil(N / t.tn), Math.ceil(M / t.tm), split.slices],
    },
    {
      code: convFinish(dir),
      params: elementParams(n, split.slices, N, 0, 0, 0),
      buffers: dir === "forward" ? [io.part, io.dst, io.a] : [io.part, io.dst],
      groups: elementGrid(n),
    },
  ];
}
