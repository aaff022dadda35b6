// 3×3 convolutions by Winograd's F(2×2, 3×3): each 2×2 block of outputs comes from a 4×4 patch
// of the input, Y = Aᵀ·[Σ_in (G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A. The sum over input channels is 16 GEMMs
// (one per position of the 4×4 product), 2.25× fewer multiply-adds than the direct convolution;
// the transforms before and after are memory-bound passes. Used where the adapter's measured trial
// says it is faster (./tiles); the same kernels give the input gradient, over the flipped,
// transposed weights and the ReLU-masked gradient. Float32 error stays ~1e-6 relative (F(2×2)'s
// transforms only add, subtract and halve), but relative to a 4×4 patch's largest values, not each
// output's: the smallest outputs are less exact than the direct kernels' (README, Winograd).
//
// The transformed input and product live in two scratch buffers shared by every layer; a layer
// whose transforms do not fit them runs in bands of tile rows (which also keeps each dispatch short).
import { type Dispatch, type GemmSpec, GRID_X, gemmLaunch, gemmShader, type Tiles } from "./gemm";
import { ELEMENT, elementGrid, elementParams, PARAMS } from "./kernels";

/** The 4×4 positions of the transformed patch: one GEMM each. */
export const POSITIONS = 16;

/** Each scratch buffer's size (the device's binding limit if that is smaller): 16 GEMMs of a band. */
export const SCRATCH_BYTES = 128 * 2 ** 20;

const G = [
  [1, 0, 0],
  [0.5, 0.5, 0.5],
  [0.5, -0.5, 0.5],
  [0, 0, 1],
];

/** Σ of coefficient·term, the zero coefficients left out (WGSL). */
const combine = (coefs: number[], terms: string[]) =>
  coefs
    .map((c, i) => (c === 0 ? "" : `${c === 1 ? "" : `${c} * `}${terms[i]}`))
    .filter(Boolean)
    .join(" + ");

/**
 * U = G·g·Gᵀ for every pair of channels, on the GPU from the weights as the direct kernels have
 * them, k-major [K·9][M] (g, correlation, as VGG's) → u[16][K][M]: per position, the GEMM's A
 * operand stored along m. n = K·M, C = M.
 */
export const WINOGRAD_WEIGHTS = `${PARAMS}
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read_write> u: array<f32>;
${ELEMENT}
  let k = e / p.C; let m = e - k * p.C;
  ${Array.from({ length: 9 }, (_, tap) => `let g${tap} = wt[(k * 9u + ${tap}u) * p.C + m];`).join(" ")}
  ${G.flatMap((row, a) =>
    [0, 1, 2].map(
      (v) =>
        `let t${a}${v} = ${combine(
          row,
          [0, 1, 2].map((r) => `g${r * 3 + v}`),
        )};`,
    ),
  ).join(" ")}
  let plane = p.n; // one position's [K][M]
  ${G.flatMap((_, a) =>
    G.map(
      (rowB, b) =>
        `u[${a * 4 + b}u * plane + e] = ${combine(
          rowB,
          [0, 1, 2].map((v) => `t${a}${v}`),
        )};`,
    ),
  ).join("\n  ")}
}`;

/** The dispatch making u (16·K·M floats) from the k-major weights wt ([K·9][M]). */
export function winogradWeights(wt: GPUBuffer, u: GPUBuffer, K: number, M: number): Dispatch {
  return {
    code: WINOGRAD_WEIGHTS,
    params: elementParams(K * M, M, 0, 0, 0, 0),
    buffers: [wt, u],
    groups: elementGrid(K * M),
  };
}

/** Tile rows and columns: the output's 2×2 blocks (an odd side's last block is half outside). */
export const blocksOf = (h: number, w: number) => ({ rows: Math.ceil(h / 2), cols: Math.ceil(w / 2) });

/** Tile rows per band: as many as the scratch holds, and as the GEMM's grid allows along x. */
export function bandRows(channels: number, h: number, w: number, scratchFloats: number, tn: number): number {
  const { rows, cols } = blocksOf(h, w);
  const fit = Math.min(Math.floor(scratchFloats / (POSITIONS * channels * cols)), Math.floor((GRID_X * tn) / cols));
  if (fit < 1) throw new Error(`a Winograd band of ${cols} blocks does not fit ${scratchFloats} floats`);
  return Math.min(rows, fit);
}

/** Floats a scratch buffer needs for this layer: all of it, or the bands a budget allows. */
export function scratchFloatsFor(inC: number, outC: number, h: number, w: number, budgetFloats: number): number {
  const c = Math.max(inC, outC);
  const { rows, cols } = blocksOf(h, w);
  const perRow = POSITIONS * c * cols;
  return perRow * Math.min(rows, Math.max(1, Math.floor(budgetFloats / perRow)));
}

/** Bᵀ·d·B for each input channel's 4×4 patches (zero beyond the edges) → v[16][C][blocks of the band]. */
export function winogradInput(masked: boolean): string {
  // Bᵀ·d row by row (vec4s along the patch's columns), then ·B inside each row.
  const rows = ["d0 - d2", "d1 + d2", "d2 - d1", "d1 - d3"];
  const cols = ["q.x - q.z", "q.y + q.z", "q.z - q.y", "q.y - q.w"];
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
${masked ? "@group(0) @binding(3) var<storage, read> act: array<f32>;" : ""}
fn at(c: u32, y: i32, x: i32) -> f32 {
  if (y < 0 || x < 0 || y >= i32(p.H) || x >= i32(p.W)) { return 0.0; }
  let i = c * p.H * p.W + u32(y) * p.W + u32(x);
  return ${masked ? "select(0.0, src[i], act[i] > 0.0)" : "src[i]"};
}
fn patchRow(c: u32, y: i32, x: i32) -> vec4<f32> {
  return vec4<f32>(at(c, y, x), at(c, y, x + 1), at(c, y, x + 2), at(c, y, x + 3));
}
${ELEMENT}
  let blocks = p.n / p.C; let c = e / blocks; let t = e - c * blocks;
  let g = p.off + t; let bw = (p.W + 1u) / 2u;
  let y0 = i32(g / bw) * 2 - 1; let x0 = i32(g % bw) * 2 - 1;
  ${[0, 1, 2, 3].map((r) => `let d${r} = patchRow(c, y0 + ${r}, x0);`).join(" ")}
  let plane = p.C * blocks; // one position's [C][blocks]
  let base = c * blocks + t;
  ${rows
    .map(
      (row, a) => `{ let q = ${row};
    ${cols.map((col, b) => `v[base + ${a * 4 + b}u * plane] = ${col};`).join(" ")} }`,
    )
    .join("\n  ")}
}`;
}

/**
 * Aᵀ·m·A for each output channel's 2×2 block, m the 16 GEMMs' products (prod[16][C][blocks]):
 * relu(· + bias) for the forward convolution, as is for the input gradient.
 */
export function winogradOutput(forward: boolean): string {
  return `${PARAMS}
@group(0) @binding(1) var<storage, read> prod: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
${forward ? "@group(0) @binding(3) var<storage, read> bias: array<f32>;" : ""}
fn put(c: u32, y: u32, x: u32, v: f32) {
  if (y < p.H && x < p.W) { dst[c * p.H * p.W + y * p.W + x] = ${forward ? "max(v + bias[c], 0.0)" : "v"}; }
}
${ELEMENT}
  let blocks = p.n / p.C; let c = e / blocks; let t = e - c * blocks;
  let g = p.off + t; let bw = (p.W + 1u) / 2u;
  let y = (g / bw) * 2u; let x = (g % bw) * 2u;
  let plane = p.C * blocks;
  let base = c * blocks + t;
  ${[0, 1, 2, 3]
    .map((a) => `let m${a} = vec4<f32>(${[0, 1, 2, 3].map((b) => `prod[base + ${a * 4 + b}u * plane]`).join(", ")});`)
    .join("\n  ")}
  let s0 = m0 + m1 + m2; let s1 = m1 - m2 - m3; // Aᵀ·m, then ·A in each row
  put(c, y, x, s0.x + s0.y + s0.z); put(c, y, x + 1u, s0.y - s0.z - s0.w);
  put(c, y + 1u, x, s1.x + s1.y + s1.z); put(c, y + 1u, x + 1u, s1.y - s1.z - s1.w);
}`;
}

/** The 16 GEMMs prod[ξ] = U[ξ]ᵀ·v[ξ]: M = out channels, K = in channels, N = the band's blocks; z = ξ. */
export const WINOGRAD_GEMM: GemmSpec = {
  bindings: `
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read> vt: array<f32>;
@group(0) @binding(3) var<storage, read_write> prod: array<f32>;`,
  loadA: "return u[(slice * p.K + k) * p.M + m];",
  loadB: "return vt[(slice * p.K + k) * p.N + n];",
  store: "prod[(slice * p.M + m) * p.N + n] = v;",
  aContiguous: "m",
  bContiguous: "n",
  batched: true,
};

export interface WinogradBuffers {
  /** winogradWeights of the convolution (or of its flipped, transposed weights, for the gradient). */
  u: GPUBuffer;
  src: GPUBuffer;
  dst: GPUBuffer;
  /** The scratch: transformed input, and the 16 products. */
  v: GPUBuffer;
  prod: GPUBuffer;
  /** Forward: dst = relu(conv + bias). */
  bias?: GPUBuffer;
  /** Input gradient: src (the gradient) counts only where this activation is > 0. */
  act?: GPUBuffer;
}

/**
 * The dispatches of one Winograd convolution, inC → outC channels at h×w: per band of tile rows,
 * the input's transform, the 16 GEMMs (`tiles`), the output's transform.
 */
export function winogradConv(
  b: WinogradBuffers,
  inC: number,
  outC: number,
  h: number,
  w: number,
  tiles: Tiles,
  scratchFloats: number,
): Dispatch[] {
  const { rows, cols } = blocksOf(h, w);
  const perBand = bandRows(Math.max(inC, outC), h, w, scratchFloats, tiles.tn);
  const code = {
    input: winogradInput(b.act !== undefined),
    gemm: gemmShader(WINOGRAD_GEMM, tiles),
    output: winogradOutput(b.bias !== undefined),
  };
  const out: Dispatch[] = [];
  for (let r0 = 0; r0 < rows; r0 += perBand) {
    const blocks = Math.min(perBand, rows - r0) * cols;
    const off = r0 * cols;
    out.push({
      code: code.input,
      params: elementParams(inC * blocks, inC, h, w, off, 0),
      buffers: b.act ? [b.src, b.v, b.act] : [b.src, b.v],
      groups: elementGrid(inC * blocks),
    });
    const launch = gemmLaunch(tiles, outC, blocks, inC, 0, 0);
    out.push({
      code: code.gemm,
      params: launch.params,
      buffers: [b.u, b.v, b.prod],
      groups: [launch.groups[0], launch.groups[1], POSITIONS],
    });
    out.push({
      code: code.output,
      params: elementParams(outC * blocks, outC, h, w, off, 0),
      buffers: b.bias ? [b.prod, b.dst, b.bias] : [b.prod, b.dst],
      groups: elementGrid(outC * blocks),
    });
  }
  return out;
}
