// The WGSL of the optimisers' GPU vector work (./vectors): one pass kernel for every vector
// update and dot product, a one-workgroup reduction, and Adam's update. See ./vectors for how the
// passes chain.

export const THREADS = 256;
/** Workgroups of a pass (each thread walks the vector): as many partial sums. */
export const PASS_GROUPS = 512;
export const NONE = 0xffffffff;
/** Pass flags: q is only read (a reduction over it), next is not read (no dot product wanted). */
export const KEEP_Q = 1;
export const NO_NEXT = 2;

/**
 * Scalars on the GPU: α_i at [0, history); the running reduction at ACC, ACC + 1; y·s and y·y of
 * a new curvature pair at PAIR, PAIR + 1.
 */
export const ACC = 64;
export const PAIR = ACC + 2;
export const SCALARS = 72;

/** The workgroup's threads' s (summed) and s2 (summed, or the max) → sums[0], seconds[0]. */
const WORKGROUP_SUMS = `
var<workgroup> sums: array<f32, ${THREADS}>;
var<workgroup> seconds: array<f32, ${THREADS}>;
fn workgroupSums(lid: u32, s: f32, s2: f32, squares: bool) {
  sums[lid] = s;
  seconds[lid] = s2;
  workgroupBarrier();
  for (var half = ${THREADS / 2}u; half > 0u; half /= 2u) {
    if (lid < half) {
      sums[lid] += sums[lid + half];
      if (squares) { seconds[lid] += seconds[lid + half]; } else { seconds[lid] = max(seconds[lid], seconds[lid + half]); }
    }
    workgroupBarrier();
  }
}`;

export const PASS = `
struct Params { n: u32, acc: u32, base: u32, store: u32, c0: f32, mult: f32, baseMul: f32, keep: f32,
                scale: f32, squares: u32, flags: u32, rhoAt: u32, scaleAt: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> q: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> next: array<f32>;
@group(0) @binding(4) var<storage, read_write> scal: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;
${WORKGROUP_SUMS}
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  // Terms with a zero factor are skipped, not multiplied: a slot or vector never written may hold NaN.
  // A pair made in this submit has ρ = 1/(y·s) and H₀ = y·s / y·y in scal[at], scal[at + 1].
  var mult = p.mult;
  if (p.rhoAt != ${NONE}u) { mult /= scal[p.rhoAt]; }
  var scale = p.scale;
  if (p.scaleAt != ${NONE}u) { scale = scal[p.scaleAt] / scal[p.scaleAt + 1u]; }
  var coef = p.c0;
  if (mult != 0.0) { coef += mult * scal[p.acc]; }
  if (p.baseMul != 0.0) { coef += p.baseMul * scal[p.base]; }
  var s = 0.0;
  var s2 = 0.0;
  for (var e = wid.x * ${THREADS}u + lid; e < p.n; e += nwg.x * ${THREADS}u) {
    var val = 0.0;
    if (coef != 0.0) { val = coef * v[e]; }
    if (p.keep != 0.0) { val += p.keep * q[e]; }
    val *= scale;
    if ((p.flags & ${KEEP_Q}u) == 0u) { q[e] = val; }
    if ((p.flags & ${NO_NEXT}u) == 0u) { s += next[e] * val; }
    if (p.squares != 0u) { s2 += val * val; } else { s2 = max(s2, abs(val)); }
  }
  workgroupSums(lid, s, s2, p.squares != 0u);
  if (lid == 0u) {
    partials[wid.x] = sums[0];
    partials[nwg.x + wid.x] = seconds[0];
    if (wid.x == 0u && p.store != ${NONE}u) { scal[p.store] = coef; }
  }
}`;

/** A pass's partial sums → scal[out] (Σ next·q) and scal[out + 1] (max |q| or Σ q²). One workgroup. */
export const REDUCE = `
struct Params { groups: u32, out: u32, squares: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> scal: array<f32>;
${WORKGROUP_SUMS}
@compute @workgroup_size(${THREADS})
fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  var s2 = 0.0;
  for (var i = lid; i < p.groups; i += ${THREADS}u) {
    s += partials[i];
    let b = partials[p.groups + i];
    if (p.squares != 0u) { s2 += b; } else { s2 = max(s2, b); }
  }
  workgroupSums(lid, s, s2, p.squares != 0u);
  if (lid == 0u) { scal[p.out] = sums[0]; scal[p.out + 1u] = seconds[0]; }
}`;

export const ADAM = `
struct Params { n: u32, lr: f32, b1: f32, b2: f32, eps: f32, c1: f32, c2: f32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  for (var e = wid.x * ${THREADS}u + lid; e < p.n; e += nwg.x * ${THREADS}u) {
    let ge = g[e];
    let me = p.b1 * m[e] + (1.0 - p.b1) * ge;
    let ve = p.b2 * v[e] + (1.0 - p.b2) * ge * ge;
    m[e] = me;
    v[e] = ve;
    x[e] -= p.lr * (me / p.c1) / (sqrt(ve / p.c2) + p.eps);
  }
}`;
