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
  /** Rows per thread; columns per thread are always 4 (one vec4). */
  rm: number;
}

export const threadsOf = (t: Tiles) => (t.tm / t.rm) * (t.tn / 4);
export const sharedBytesOf = (t: Tiles) => (t.tm + t.tn) * t.tk * 4;

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
}

/** Tile-load loop: element i of the tile → (row-or-col index, kk), the contiguous one fastest. */
function tileLoad(size: number, tk: number, fastK: boolean, outer: string) {
  return fastK
    ? `let ${outer} = i / ${tk}u; let kk = i % ${tk}u;`
    : `let ${outer} = i % ${size}u; let kk = i / ${size}u;`;
}

export function gemmShader(spec: GemmSpec, t: Tiles): string {
  if (spec.symmetric && t.tm !== t.tn) throw new Error("a symmetric GEMM needs square tiles");
  if (t.rm % 4) throw new Error("rows per thread must be a multiple of 4");
  const threads = threadsOf(t);
  const tx = t.tn / 4;
  const rv = t.rm / 4; // vec4s of A per thread and k
  // Loading B along n with a multiple of TN threads, each thread always loads the same column.
  const fixedCol = spec.bContiguous === "n" && threads % t.tn === 0;
  const tileStart = spec.symmetric ? "if (tn < wid.y) { return; }" : "";
  const mirror = spec.symmetric ? "if (tn != wid.y) { store(n, m, v); }" : "";
  // Both tiles live in workgroup memory as vec4s along m and n: one load per 4 values in the
  // inner loop, which does RM×4 fma per RM/4 + 1 loads.
  return `${GEMM_PARAMS}
${spec.bindings}
fn loadA(m: u32, k: u32) -> f32 { ${spec.loadA} }
fn colOf(n: u32) -> vec2<i32> { ${spec.colOf ?? "return vec2<i32>(0);"} }
fn loadB(k: u32, n: u32, at: vec2<i32>) -> f32 { ${spec.loadB} }
fn store(m: u32, n: u32, v: f32) { ${spec.store} }

var<private> slice: u32;
var<workgroup> As: array<vec4<f32>, ${(t.tk * t.tm) / 4}>;
var<workgroup> Bs: array<vec4<f32>, ${(t.tk * t.tn) / 4}>;

@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  ${spec.splitK ? "let tn = wid.x; slice = wid.z;" : `let tn = wid.x + wid.z * ${GRID_X}u;`}
  if (tn >= p.nTiles) { return; }
  ${tileStart}
  let kBegin = ${spec.splitK ? "wid.z * p.kPer" : "0u"}; // from wid, not \`slice\`: barriers need uniform bounds
  let kEnd = ${spec.splitK ? "min(p.K, kBegin + p.kPer)" : "p.K"};
  let m0 = wid.y * ${t.tm}u;
  let n0 = tn * ${t.tn}u;
  let col = lid % ${tx}u;
  let row = lid / ${tx}u;
  var acc: array<vec4<f32>, ${t.rm}>;
  ${fixedCol ? `let myCol = colOf(n0 + lid % ${t.tn}u);` : ""}
  for (var k0 = kBegin; k0 < kEnd; k0 += ${t.tk}u) {
    for (var i = lid; i < ${t.tm * t.tk}u; i += ${threads}u) {
      ${tileLoad(t.tm, t.tk, spec.aContiguous === "k", "mm")}
      let m = m0 + mm; let k = k0 + kk;
      var a = 0.0;
      if (m < p.M && k < kEnd) { a = loadA(m, k); }
      As[kk * ${t.tm / 4}u + mm / 4u][mm % 4u] = a;
    }
    for (var i = lid; i < ${t.tn * t.tk}u; i += ${threads}u) {
      ${tileLoad(t.tn, t.tk, spec.bContiguous === "k", "nn")}
      let n = n0 + nn; let k = k0 + kk;
      var b = 0.0;
      if (n < p.N && k < kEnd) { b = loadB(k, n, ${fixedCol ? "myCol" : "colOf(n)"}); }
      Bs[kk * ${tx}u + nn / 4u][nn % 4u] = b;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${t.tk}u; kk++) {
      let b = Bs[kk * ${tx}u + col];
      for (var v = 0u; v < ${rv}u; v++) {
        let a = As[kk * ${t.tm / 4}u + row * ${rv}u + v];
        acc[v * 4u] = fma(vec4<f32>(a.x), b, acc[v * 4u]);
        acc[v * 4u + 1u] = fma(vec4<f32>(a.y), b, acc[v * 4u + 1u]);
        acc[v * 4u + 2u] = fma(vec4<f32>(a.z), b, acc[v * 4u + 2u]);
        acc[v * 4u + 3u] = fma(vec4<f32>(a.w), b, acc[v * 4u + 3u]);
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < ${t.rm}u; r++) {
    let m = m0 + row * ${t.rm}u + r;
    if (m >= p.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + col * 4u + j;
      if (n < p.N) { let v = acc[r][j]; store(m, n, v); ${mirror} }
    }
  }
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
