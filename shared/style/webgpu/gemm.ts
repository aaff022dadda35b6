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
struct Params { M: u32, N: u32, K: u32, H: u32, W: u32, nTiles: u32, coef: f32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;`;

export interface GemmSpec {
  /** Storage bindings from @binding(1) on, as WGSL declarations. */
  bindings: string;
  /** Bodies of fn loadA(m, k) -> f32, fn loadB(k, n) -> f32 (indices in range) and fn store(m, n, v). */
  loadA: string;
  loadB: string;
  store: string;
  /** B is stored k-major ([n][k], like F for a Gram): load its tile k-fastest for coalesced reads. */
  bKMajor?: boolean;
  /** C is symmetric (a Gram): compute tiles on and above the diagonal only, store their mirror too. */
  symmetric?: boolean;
}

export function gemmShader(spec: GemmSpec, t: Tiles): string {
  if (spec.symmetric && t.tm !== t.tn) throw new Error("a symmetric GEMM needs square tiles");
  const threads = threadsOf(t);
  const tx = t.tn / 4;
  // The B tile's load order: n fastest (row-major B) or k fastest (B stored as [n][k]).
  const bIndex = spec.bKMajor
    ? `let kk = i % ${t.tk}u; let nn = i / ${t.tk}u;`
    : `let kk = i / ${t.tn}u; let nn = i % ${t.tn}u;`;
  const tileStart = spec.symmetric ? "if (tn < wid.y) { return; }" : "";
  const mirror = spec.symmetric ? "if (tn != wid.y) { store(n, m, v); }" : "";
  return `${GEMM_PARAMS}
${spec.bindings}
fn loadA(m: u32, k: u32) -> f32 { ${spec.loadA} }
fn loadB(k: u32, n: u32) -> f32 { ${spec.loadB} }
fn store(m: u32, n: u32, v: f32) { ${spec.store} }

var<workgroup> As: array<f32, ${t.tk * t.tm}>;
var<workgroup> Bs: array<f32, ${t.tk * t.tn}>;

@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tn = wid.x + wid.z * ${GRID_X}u;
  if (tn >= p.nTiles) { return; }
  ${tileStart}
  let m0 = wid.y * ${t.tm}u;
  let n0 = tn * ${t.tn}u;
  let col = lid % ${tx}u;
  let row = lid / ${tx}u;
  var acc: array<vec4<f32>, ${t.rm}>;
  for (var k0 = 0u; k0 < p.K; k0 += ${t.tk}u) {
    for (var i = lid; i < ${t.tm * t.tk}u; i += ${threads}u) {
      let mm = i / ${t.tk}u; let kk = i % ${t.tk}u;
      let m = m0 + mm; let k = k0 + kk;
      var a = 0.0;
      if (m < p.M && k < p.K) { a = loadA(m, k); }
      As[kk * ${t.tm}u + mm] = a;
    }
    for (var i = lid; i < ${t.tn * t.tk}u; i += ${threads}u) {
      ${bIndex}
      let n = n0 + nn; let k = k0 + kk;
      var b = 0.0;
      if (n < p.N && k < p.K) { b = loadB(k, n); }
      Bs[kk * ${t.tn}u + nn] = b;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${t.tk}u; kk++) {
      let bi = kk * ${t.tn}u + col * 4u;
      let b = vec4<f32>(Bs[bi], Bs[bi + 1u], Bs[bi + 2u], Bs[bi + 3u]);
      for (var r = 0u; r < ${t.rm}u; r++) {
        acc[r] = fma(vec4<f32>(As[kk * ${t.tm}u + row * ${t.rm}u + r]), b, acc[r]);
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

/** im2col: element (k, n) of a 3x3 'same' convolution's input view; k = channel·9 + tap. */
const IM2COL = (read: string) => `
  let i = k / 9u; let tap = k - i * 9u;
  let y = i32(n / p.W) + i32(tap / 3u) - 1;
  let x = i32(n % p.W) + i32(tap % 3u) - 1;
  if (y < 0 || x < 0 || y >= i32(p.H) || x >= i32(p.W)) { return 0.0; }
  let at = i * p.H * p.W + u32(y) * p.W + u32(x);
  return ${read};`;

/** relu(conv(src) + bias): M = out channels, K = in channels·9, N = pixels. */
export const CONV_FORWARD: GemmSpec = {
  bindings: `
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> src: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;`,
  loadA: "return wt[m * p.K + k];",
  loadB: IM2COL("src[at]"),
  store: "dst[m * p.N + n] = max(v + bias[m], 0.0);",
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
  loadA: "return wt[m * p.K + k];",
  loadB: IM2COL("select(0.0, grad[at], act[at] > 0.0)"),
  store: "dst[m * p.N + n] = v;",
};

/**
 * A Gram matrix F·(F∘mask)ᵀ·coef minus a target: the features bench stores G (no target: a zero
 * buffer), the loss stores D = G − A. M = N = channels, K = pixels; F is [C][K].
 */
export function gramSpec(masked: boolean): GemmSpec {
  return {
    bindings: `
@group(0) @binding(1) var<storage, read> f: array<f32>;
@group(0) @binding(2) var<storage, read> goal: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
${masked ? "@group(0) @binding(4) var<storage, read> mask: array<f32>;" : ""}`,
    loadA: "return f[m * p.K + k];",
    loadB: masked ? "return f[n * p.K + k] * mask[k];" : "return f[n * p.K + k];",
    store: "dst[m * p.N + n] = v * p.coef - goal[m * p.N + n];",
    bKMajor: true,
    symmetric: true,
  };
}

/** The style gradient at a layer: dst += coef·D·(F∘mask). M = K = channels, N = pixels. */
export function gramBackwardSpec(masked: boolean): GemmSpec {
  return {
    bindings: `
@group(0) @binding(1) var<storage, read> d: array<f32>;
@group(0) @binding(2) var<storage, read> f: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
${masked ? "@group(0) @binding(4) var<storage, read> mask: array<f32>;" : ""}`,
    loadA: "return d[m * p.K + k];",
    loadB: masked ? "return f[k * p.N + n] * mask[n];" : "return f[k * p.N + n];",
    store: "dst[m * p.N + n] += v * p.coef;",
  };
}
