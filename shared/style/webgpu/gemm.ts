// One tiled matrix-multiply kernel, C[m][n] = Σ_k A[m][k]·B[k][n], written once and specialised
// by what it reads and writes: the 3x3 convolution (implicit GEMM: B is the im2col view of the
// input, never stored), its input gradient (the same over flipped, transposed weights and the
// ReLU-masked gradient), the Gram matrix and the Gram's backward product.
//
// A workgroup computes a TM×TN tile of C, stepping through K by TK with both operand tiles in
// workgroup memory; each thread keeps RM×4 results in registers (RM vec4 accumulators: register
// blocking, vec4 fma).

export interface Tiles {
  /** Rows (M) and columns (N) of C per workgroup. */
  tm: number;
  tn: number;
  /** K per step through workgroup memory. */
  tk: number;
  /** Rows per thread (a multiple of 4). */
  rm: number;
  /** vec4s of columns per thread (default 1): 2 gives 8 columns, RM×8 results a thread. */
  cn?: number;
}

export const threadsOf = (t: Tiles) => (t.tm / t.rm) * (t.tn / (4 * (t.cn ?? 1)));
export const sharedBytesOf = (t: Tiles) => (t.tm + t.tn) * t.tk * 4;

/**
 * GEMMs with at most 4 rows (the image's gradient): one row of vec4s, wide along the pixels.
 * 8 deep: 8 KiB of workgroup memory, within WebGPU's least (16 KiB, 16 deep needs 16.25).
 */
export const FEW_ROWS: Tiles = { tm: 4, tn: 256, tk: 8, rm: 4 };

/** Grams and their backward product: square tiles (the Gram is symmetric), 256 threads, 8 KiB (+ 128 B of padding). */
export const SQUARE: Tiles = { tm: 64, tn: 64, tk: 16, rm: 4 };

/** Tiles fit the device: invocations per workgroup and workgroup memory. */
export function tilesFit(
  t: Tiles,
  limits: {
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeWorkgroupSizeX: number;
  },
): boolean {
  const threads = threadsOf(t);
  return (
    threads <= limits.maxComputeInvocationsPerWorkgroup &&
    threads <= limits.maxComputeWorkgroupSizeX &&
    sharedBytesOf(t) <= limits.maxComputeWorkgroupStorageSize
  );
}

/** Workgroups along x per dispatch row: WebGPU allows at most 65535 per dimension. */
export const GRID_X = 32768;

/**
 * How a GEMM of M×N (K deep; H×W the im2col image) is launched: its Params (GEMM_PARAMS) and its
 * workgroup grid (N's tiles folded into x and z, M's tiles along y).
 */
export function gemmLaunch(t: Tiles, M: number, N: number, K: number, H: number, W: number, coef = 0, kPer = 0) {
  const nTiles = Math.ceil(N / t.tn);
  const params = new ArrayBuffer(32);
  new Uint32Array(params).set([M, N, K, H, W, nTiles, 0, kPer]);
  new Float32Array(params)[6] = coef;
  const groups: [number, number, number] = [Math.min(nTiles, GRID_X), Math.ceil(M / t.tm), Math.ceil(nTiles / GRID_X)];
  return { params, groups };
}

/** One dispatch of a kernel: its WGSL, uniforms, storage buffers from @binding(1) on, and grid. */
export interface Dispatch {
  code: string;
  params: ArrayBuffer;
  buffers: GPUBuffer[];
  groups: [number, number, number];
}

/** Uniforms every GEMM takes (16-byte aligned). */
export const GEMM_PARAMS = `
struct Params { M: u32, N: u32, K: u32, H: u32, W: u32, nTiles: u32, coef: f32, kPer: u32 }
@group(0) @binding(0) var<uniform> p: Params;`;

export interface GemmSpec {
  /** Storage bindings from @binding(1) on, as WGSL declarations. */
  bindings: string;
  /**
   * Bodies of fn loadA(m, k) -> f32, fn loadB(k, n, at: vec2<i32>) -> f32 (indices in range) and
   * fn store(m, n, v). `at` is colOf(n), computed once per thread where its columns stay fixed
   * (the im2col view's pixel row and column: integer division is not cheap on a GPU).
   */
  loadA: string;
  loadB: string;
  colOf?: string;
  store: string;
  /**
   * Which index of each operand is contiguous in memory: the tile is loaded with that index
   * fastest across threads, so neighbouring threads read neighbouring addresses.
   */
  aContiguous: "m" | "k";
  bContiguous: "n" | "k";
  /** C is symmetric (a Gram): compute tiles on and above the diagonal only, store their mirror too. */
  symmetric?: boolean;
  /**
   * Split K across workgroups (z = the slice, kPer values each; `slice` tells the store which):
   * for a Gram of few channels over many pixels, one tile would otherwise loop over every pixel
   * on a single workgroup.
   */
  splitK?: boolean;
  /**
   * Several GEMMs of one shape side by side (z = which, `slice` to the loads and the store): the
   * 16 products of a Winograd convolution (./winograd).
   */
  batched?: boolean;
}

/**
 * One operand's tile in workgroup memory and how it is filled and read. Along m (or n) in memory:
 * each thread loads 4 neighbours and stores one whole vec4 — never a part of one: WGSL lets a write
 * to one component touch the whole vector (a race between threads on Metal and D3D). Along k in
 * memory (the Gram's F): a scalar tile, loaded k-fastest so that neighbouring threads read
 * neighbouring addresses, read back as vec4s.
 */
function operandTile(name: "A" | "B", size: number, tk: number, threads: number, alongK: boolean, fixedCol: boolean) {
  const load = name === "A" ? "loadA(x, k)" : `loadB(k, x, ${fixedCol ? "cols[j]" : "colOf(x)"})`;
  const limit = name === "A" ? "p.M" : "p.N";
  const origin = name === "A" ? "m0" : "n0";
  if (alongK) {
    // Rows padded by one: neighbouring threads store down a column (kk), and a stride of `size`
    // words would put all of them in one memory bank.
    const row = size + 1;
    return {
      decl: `var<workgroup> ${name}s: array<f32, ${tk * row}>;`,
      fill: `for (var i = lid; i < ${tk * size}u; i += ${threads}u) {
      let s = i / ${tk}u; let kk = i % ${tk}u;
      let x = ${origin} + s; let k = k0 + kk;
      var v = 0.0;
      if (x < ${limit} && k < kEnd) { v = ${load.replace("cols[j]", "colOf(x)")}; }
      ${name}s[kk * ${row}u + s] = v;
    }`,
      read: (kk: string, v: string) =>
        `vec4<f32>(${[0, 1, 2, 3].map((c) => `${name}s[${kk} * ${row}u + (${v}) * 4u + ${c}u]`).join(", ")})`,
    };
  }
  const q = size / 4;
  return {
    decl: `var<workgroup> ${name}s: array<vec4<f32>, ${tk * q}>;`,
    fill: `for (var i = lid; i < ${tk * q}u; i += ${threads}u) {
      let kk = i / ${q}u; let k = k0 + kk;
      var v = vec4<f32>(0.0);
      for (var j = 0u; j < 4u; j++) {
        let x = ${origin} + (i % ${q}u) * 4u + j;
        if (x < ${limit} && k < kEnd) { v[j] = ${load}; }
      }
      ${name}s[i] = v;
    }`,
    read: (kk: string, v: string) => `${name}s[${kk} * ${q}u + ${v}]`,
  };
}

export function gemmShader(spec: GemmSpec, t: Tiles): string {
  if (spec.symmetric && t.tm !== t.tn) throw new Error("a symmetric GEMM needs square tiles");
  if (t.rm % 4) throw new Error("rows per thread must be a multiple of 4");
  const threads = threadsOf(t);
  const cn = t.cn ?? 1;
  const tx = t.tn / (4 * cn); // threads along n; thread `col` has the vec4 columns col, col + tx, …
  const rv = t.rm / 4; // vec4s of A per thread and k
  // B along n, and a multiple of TN/4 threads: each thread always loads the same 4 columns, so
  // their im2col pixels (a division by the width) are worked out once.
  const fixedCol = spec.bContiguous === "n" && threads % (t.tn / 4) === 0;
  const A = operandTile("A", t.tm, t.tk, threads, spec.aContiguous === "k", false);
  const B = operandTile("B", t.tn, t.tk, threads, spec.bContiguous === "k", fixedCol);
  const tileStart = spec.symmetric ? "if (tn < wid.y) { return; }" : "";
  const mirror = spec.symmetric ? "if (tn != wid.y) { store(n, m, v); }" : "";
  const rows = Array.from({ length: t.rm }, (_, r) => r);
  const cols = Array.from({ length: cn }, (_, c) => c);
  // Straight-line code for the accumulators (no indexing by a loop variable), so that every
  // compiler keeps them in registers: RM×4 fma per RM/4 + 1 tile reads.
  const inner = [
    ...cols.map((c) => `let b${c} = ${B.read("kk", `col + ${c * tx}u`)};`),
    ...Array.from({ length: rv }, (_, v) => `let a${v} = ${A.read("kk", `row * ${rv}u + ${v}u`)};`),
    ...rows.flatMap((r) =>
      cols.map((c) => `acc${r}_${c} = fma(vec4<f32>(a${r >> 2}.${"xyzw"[r & 3]}), b${c}, acc${r}_${c});`),
    ),
  ].join("\n      ");
  const epilogue = rows
    .map(
      (r) => `{
    let m = m0 + row * ${t.rm}u + ${r}u;
    if (m < p.M) {
${cols
  .flatMap((c) =>
    [0, 1, 2, 3].map(
      (j) =>
        `      { let n = n0 + (col + ${c * tx}u) * 4u + ${j}u; if (n < p.N) { let v = acc${r}_${c}.${"xyzw"[j]}; store(m, n, v); ${mirror} } }`,
    ),
  )
  .join("\n")}
    }
  }`,
    )
    .join("\n  ");
  return `${GEMM_PARAMS}
${spec.bindings}
fn loadA(m: u32, k: u32) -> f32 { ${spec.loadA} }
fn colOf(n: u32) -> vec2<i32> { ${spec.colOf ?? "return vec2<i32>(0);"} }
fn loadB(k: u32, n: u32, at: vec2<i32>) -> f32 { ${spec.loadB} }
fn store(m: u32, n: u32, v: f32) { ${spec.store} }

var<private> slice: u32;
${A.decl}
${B.decl}

@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  ${spec.splitK || spec.batched ? "let tn = wid.x; slice = wid.z;" : `let tn = wid.x + wid.z * ${GRID_X}u;`}
  if (tn >= p.nTiles) { return; }
  ${tileStart}
  let kBegin = ${spec.splitK ? "wid.z * p.kPer" : "0u"}; // from wid, not \`slice\`: barriers need uniform bounds
  let kEnd = ${spec.splitK ? "min(p.K, kBegin + p.kPer)" : "p.K"};
  let m0 = wid.y * ${t.tm}u;
  let n0 = tn * ${t.tn}u;
  let col = lid % ${tx}u;
  let row = lid / ${tx}u;
  ${rows.flatMap((r) => cols.map((c) => `var acc${r}_${c} = vec4<f32>(0.0);`)).join(" ")}
  ${fixedCol ? `var cols: array<vec2<i32>, 4>; for (var j = 0u; j < 4u; j++) { cols[j] = colOf(n0 + (lid % ${t.tn / 4}u) * 4u + j); }` : ""}
  for (var k0 = kBegin; k0 < kEnd; k0 += ${t.tk}u) {
    ${A.fill}
    ${B.fill}
    workgroupBarrier();
    for (var kk = 0u; kk < ${t.tk}u; kk++) {
      ${inner}
    }
    workgroupBarrier();
  }
  ${epilogue}
}`;
}

/** A pixel's row and column, for the im2col view. */
const PIXEL = "return vec2<i32>(i32(n / p.W), i32(n % p.W));";

/** im2col: element (k, n) of a 3x3 'same' convolution's input view; k = channel·9 + tap, at = n's pixel. */
const IM2COL = (read: string) => `
  let i = k / 9u; let tap = k - i * 9u;
  let y = at.x + i32(tap / 3u) - 1;
  let x = at.y + i32(tap % 3u) - 1;
  if (y < 0 || x < 0 || y >= i32(p.H) || x >= i32(p.W)) { return 0.0; }
  let idx = i * p.H * p.W + u32(y) * p.W + u32(x);
  return ${read};`;

/**
 * relu(conv(src) + bias): M = out channels, K = in channels·9, N = pixels. The weights are stored
 * transposed, [K][M] (see kMajorWeights), so a tile of them is read along m.
 */
export const CONV_FORWARD: GemmSpec = {
  bindings: `
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> src: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;`,
  loadA: "return wt[k * p.M + m];",
  loadB: IM2COL("src[idx]"),
  colOf: PIXEL,
  store: "dst[m * p.N + n] = max(v + bias[m], 0.0);",
  aContiguous: "m",
  bContiguous: "n",
};

/**
 * The input gradient of relu(conv(x)): the flipped, transposed kernel over the gradient at the
 * ReLU's output, kept where that output is > 0. M = in channels, K = out channels·9.
 */
export const CONV_BACKWARD: GemmSpec = {
  bindings: `
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read> act: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;`,
  loadA: "return wt[k * p.M + m];",
  loadB: IM2COL("select(0.0, grad[idx], act[idx] > 0.0)"),
  colOf: PIXEL,
  store: "dst[m * p.N + n] = v;",
  aContiguous: "m",
  bContiguous: "n",
};

/**
 * A Gram matrix's partial sums F·(F∘mask)ᵀ over one slice of the pixels, into slice `slice` of
 * `dst` ([slices][C][C]); GRAM_FINISH adds the slices up. M = N = channels, K = pixels; F is [C][K].
 */
export function gramSpec(masked: boolean): GemmSpec {
  return {
    bindings: `
@group(0) @binding(1) var<storage, read> f: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
${masked ? "@group(0) @binding(3) var<storage, read> mask: array<f32>;" : ""}`,
    loadA: "return f[m * p.K + k];",
    loadB: masked ? "return f[n * p.K + k] * mask[k];" : "return f[n * p.K + k];",
    store: "dst[(slice * p.M + m) * p.N + n] = v;",
    aContiguous: "k",
    bContiguous: "k",
    symmetric: true,
    splitK: true,
  };
}

/** How a Gram of C channels over K pixels is split: enough workgroups to fill a GPU, ≥ 1024 pixels a slice. */
export function gramSlices(c: number, k: number, tile: number, tk: number): { slices: number; kPer: number } {
  const t = Math.ceil(c / tile);
  const wanted = Math.max(1, Math.min(Math.ceil(512 / ((t * (t + 1)) / 2)), Math.floor(k / 1024)));
  const kPer = Math.ceil(Math.ceil(k / wanted) / tk) * tk;
  return { slices: Math.ceil(k / kPer), kPer };
}

/** The style gradient at a layer: dst += coef·D·(F∘mask). M = K = channels, N = pixels. */
export function gramBackwardSpec(masked: boolean): GemmSpec {
  return {
    bindings: `
@group(0) @binding(1) var<storage, read> d: array<f32>;
@group(0) @binding(2) var<storage, read> f: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
${masked ? "@group(0) @binding(4) var<storage, read> mask: array<f32>;" : ""}`,
    loadA: "return d[k * p.M + m];", // D = G − A is symmetric: read along m
    aContiguous: "m",
    bContiguous: "n",
    loadB: masked ? "return f[k * p.N + n] * mask[n];" : "return f[k * p.N + n];",
    store: "dst[m * p.N + n] += v * p.coef;",
  };
}

/** A row-major [M][K] matrix as [K][M]: how convolution weights are uploaded (read along m). */
export function kMajorWeights(w: Float32Array, M: number, K: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) out[k * M + m] = w[m * K + k];
  return out;
}
