// The small kernels around the GEMMs: 2x2 pooling forward and backward, the loss reductions
// (content, Σ D², total variation) and their gradients. One thread per element, 256 per workgroup;
// reductions write one partial sum per workgroup, summed on the host in float64 with the gradient's
// read-back (one read-back per evaluation).

import { GRID_X } from "./gemm";

export const THREADS = 256;
/** At most this many workgroups per reduction (so as many partial sums); each thread walks the data. */
export const REDUCE_GROUPS = 256;

export const PARAMS = `
struct Params { n: u32, C: u32, H: u32, W: u32, off: u32, coef: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;`;

/** The Params of these kernels (coef is a float), as the uniform buffer holds them. */
export function elementParams(n: number, C: number, H: number, W: number, off: number, coef: number): ArrayBuffer {
  const params = new ArrayBuffer(32);
  new Uint32Array(params).set([n, C, H, W, off]);
  new Float32Array(params)[5] = coef;
  return params;
}

/** The grid of a one-thread-per-element kernel (ELEMENT) over n elements. */
export function elementGrid(n: number): [number, number, number] {
  const groups = Math.ceil(n / THREADS);
  const gx = Math.min(groups, GRID_X);
  return [gx, Math.ceil(groups / gx), 1];
}

/** Element index for a dispatch spread over x and y (at most 65535 workgroups per dimension). */
export const ELEMENT = `
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = (wid.y * nwg.x + wid.x) * ${THREADS}u + lid;
  if (e >= p.n) { return; }`;

/** Pooled element e → i, the top-left input element of its 2x2 window. */
const WINDOW = `
  let ow = p.W / 2u; let oh = p.H / 2u;
  let c = e / (oh * ow); let r = e % (oh * ow);
  let i = c * p.H * p.W + (r / ow) * 2u * p.W + (r % ow) * 2u;`;

/** 2x2 pooling, stride 2. n = C·(H/2)·(W/2); H, W are the input's. */
export function poolForward(kind: "max" | "avg"): string {
  const combine = kind === "max" ? "max(max(v0, v1), max(v2, v3))" : "(v0 + v1 + v2 + v3) * 0.25";
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
${ELEMENT}${WINDOW}
  let v0 = src[i]; let v1 = src[i + 1u]; let v2 = src[i + p.W]; let v3 = src[i + p.W + 1u];
  dst[e] = ${combine};
}`;
}

/**
 * The gradient through a 2x2 pooling. Max: all of it to the window's arg-max, recomputed from the
 * forward's input (first of equals in row-major order, like ONNX Runtime's indices); avg: a
 * quarter to each. n = C·(H/2)·(W/2); writes every input element.
 */
export function poolBackward(kind: "max" | "avg"): string {
  const spread =
    kind === "max"
      ? `var best = 0u; var top = x[i];
  for (var j = 1u; j < 4u; j++) { let v = x[i + offs[j]]; if (v > top) { top = v; best = j; } }
  for (var j = 0u; j < 4u; j++) { dst[i + offs[j]] = select(0.0, g, j == best); }`
      : // x is not needed, but bound like max's: keep it in the layout.
        "_ = &x; for (var j = 0u; j < 4u; j++) { dst[i + offs[j]] = g * 0.25; }";
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
${ELEMENT}${WINDOW}
  var offs = array<u32, 4>(0u, 1u, p.W, p.W + 1u);
  let g = grad[e];
  ${spread}
}`;
}

/**
 * A Gram from its slices: dst = coef·Σ_s part[s] − goal (goal: the style's Gram for the loss, zeros
 * for features). n = C², C = the number of slices.
 */
export const GRAM_FINISH = `${PARAMS}
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read> goal: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
${ELEMENT}
  var sum = 0.0;
  for (var s = 0u; s < p.C; s++) { sum += part[s * p.n + e]; }
  dst[e] = sum * p.coef - goal[e];
}`;

/** A reduction: each thread sums `term(e)` over its elements, the workgroup adds them up. */
function reduction(bindings: string, body: string): string {
  return `${PARAMS}
${bindings}
@group(0) @binding(9) var<storage, read_write> partials: array<f32>;
var<workgroup> red: array<f32, ${THREADS}>;
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var e = wid.x * ${THREADS}u + lid; e < p.n; e += nwg.x * ${THREADS}u) {
    ${body}
  }
  red[lid] = s;
  workgroupBarrier();
  for (var half = ${THREADS / 2}u; half > 0u; half /= 2u) {
    if (lid < half) { red[lid] += red[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[p.off + wid.x] = red[0]; }
}`;
}

/** Content: Σ(F − P)², and grad += coef·(F − P) (coef = 2w/ΣP²). */
export const CONTENT = reduction(
  `@group(0) @binding(1) var<storage, read> f: array<f32>;
@group(0) @binding(2) var<storage, read> goal: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;`,
  "let d = f[e] - goal[e]; s += d * d; grad[e] += p.coef * d;",
);

/** Σ D² of a Gram difference. */
export const SUM_SQUARES = reduction(
  "@group(0) @binding(1) var<storage, read> d: array<f32>;",
  "let v = d[e]; s += v * v;",
);

/**
 * Total variation of the image [C][H][W]: ½Σ(Δx² + Δy²), and grad += coef·∂/∂x (each difference
 * pulls its two ends together). n = C·H·W.
 */
export const TOTAL_VARIATION = reduction(
  `@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;`,
  `let col = e % p.W; let row = (e / p.W) % p.H; let v = x[e];
    var g = 0.0;
    if (col + 1u < p.W) { let d = x[e + 1u] - v; s += 0.5 * d * d; g -= d; }
    if (row + 1u < p.H) { let d = x[e + p.W] - v; s += 0.5 * d * d; g -= d; }
    if (col > 0u) { g += v - x[e - 1u]; }
    if (row > 0u) { g += v - x[e - p.W]; }
    grad[e] += p.coef * g;`,
);
