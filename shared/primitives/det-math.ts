// sin, cos and log with the same result on every JavaScript engine. Math.sin/cos/log are only
// "implementation-approximated": Chrome's V8 may use glibc-derived trig where Node's uses fdlibm,
// and one differing last bit changes which shape wins a step. These are ports of fdlibm/FreeBSD
// (e_log.c, k_sin.c, k_cos.c, the medium case of e_rem_pio2.c — what V8 itself ports) built from
// + − × ÷ alone, which IEEE 754 rounds identically everywhere (JavaScript never fuses a
// multiply-add). Accurate to < 1 ulp for |x| up to 2^19·π/2 (the engine's angles stay far below).

const S1 = -0.16666666666666632;
const S2 = 0.00833333333332249;
const S3 = -0.0001984126982985795;
const S4 = 2.7557313707070068e-6;
const S5 = -2.5050760253406863e-8;
const S6 = 1.58969099521155e-10;
const C1 = 0.0416666666666666;
const C2 = -0.001388888888887411;
const C3 = 2.480158728947673e-5;
const C4 = -2.7557314351390663e-7;
const C5 = 2.087572321298175e-9;
const C6 = -1.1359647557788195e-11;
const INV_PIO2 = 0.6366197723675814;
/** π/2 split: the first 33 bits and the rest; a finer split for a second round. */
const PIO2_1 = 1.5707963267341256;
const PIO2_1T = 6.077100506506192e-11;
const PIO2_2 = 6.077100506303966e-11;
const PIO2_2T = 2.0222662487959506e-21;

const bits = new DataView(new ArrayBuffer(8));
/** The high 32 bits of x's IEEE 754 representation. */
function highWord(x: number): number {
  bits.setFloat64(0, x);
  return bits.getInt32(0);
}

/** sin(x + y) for |x + y| ≤ π/4, y the tail of x. */
function kernelSin(x: number, y: number): number {
  const z = x * x;
  const v = z * x;
  const r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
  if (y === 0) return x + v * (S1 + z * r);
  return x - (z * (0.5 * y - v * r) - y - v * S1);
}

/** cos(x + y) for |x + y| ≤ π/4. */
function kernelCos(x: number, y: number): number {
  const ix = highWord(x) & 0x7fffffff;
  if (ix < 0x3e400000) return 1; // |x| < 2^-27
  const z = x * x;
  const r = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
  if (ix < 0x3fd33333) return 1 - (0.5 * z - (z * r - x * y)); // |x| < 0.3
  let qx = 0.28125;
  if (ix <= 0x3fe90000) {
    bits.setInt32(0, ix - 0x00200000);
    bits.setInt32(4, 0);
    qx = bits.getFloat64(0); // x/4, truncated
  }
  const hz = 0.5 * z - qx;
  const a = 1 - qx;
  return a - (hz - (z * r - x * y));
}

/** x − n·π/2 as head + tail (the tail in `tail`), with n the nearest integer to x / (π/2). */
let tail = 0;
function reduce(x: number): { n: number; head: number } {
  const t = Math.abs(x);
  const n = Math.floor(t * INV_PIO2 + 0.5);
  let r = t - n * PIO2_1;
  let w = n * PIO2_1T;
  let head = r - w;
  const j = (highWord(t) >> 20) & 0x7ff;
  if (j - ((highWord(head) >> 20) & 0x7ff) > 16) {
    // x is close to a multiple of π/2: a second, finer round keeps the digits that cancelled.
    const r0 = r;
    w = n * PIO2_2;
    r = r0 - w;
    w = n * PIO2_2T - (r0 - r - w);
    head = r - w;
  }
  tail = r - head - w;
  if (x >= 0) return { n, head };
  tail = -tail;
  return { n: -n, head: -head };
}

export function detSin(x: number): number {
  if (Math.abs(x) <= Math.PI / 4) return kernelSin(x, 0);
  const { n, head } = reduce(x);
  switch (n & 3) {
    case 0:
      return kernelSin(head, tail);
    case 1:
      return kernelCos(head, tail);
    case 2:
      return -kernelSin(head, tail);
    default:
      return -kernelCos(head, tail);
  }
}

export function detCos(x: number): number {
  if (Math.abs(x) <= Math.PI / 4) return kernelCos(x, 0);
  const { n, head } = reduce(x);
  switch (n & 3) {
    case 0:
      return kernelCos(head, tail);
    case 1:
      return -kernelSin(head, tail);
    case 2:
      return -kernelCos(head, tail);
    default:
      return kernelSin(head, tail);
  }
}

const LG1 = 0.6666666666666735;
const LG2 = 0.3999999999940942;
const LG3 = 0.2857142874366239;
const LG4 = 0.22222198432149784;
const LG5 = 0.1818357216161805;
const LG6 = 0.15313837699209373;
const LG7 = 0.14798198605116586;
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;

/** Natural log of a positive, finite, normal x (the engine never passes anything else). */
export function detLog(x: number): number {
  if (!(x > 0) || x === Number.POSITIVE_INFINITY || x < 2.2250738585072014e-308) return Math.log(x);
  bits.setFloat64(0, x);
  let hx = bits.getInt32(0);
  let k = (hx >> 20) - 1023;
  hx &= 0x000fffff;
  const i0 = (hx + 0x95f64) & 0x100000;
  bits.setInt32(0, hx | (i0 ^ 0x3ff00000)); // normalise x (or x/2) into [√2/2, √2)
  k += i0 >> 20;
  const f = bits.getFloat64(0) - 1;
  const dk = k;
  if ((0x000fffff & (2 + hx)) < 3) {
    // -2^-20 <= f < 2^-20
    if (f === 0) return k === 0 ? 0 : dk * LN2_HI + dk * LN2_LO;
    const R = f * f * (0.5 - 0.3333333333333333 * f);
    return k === 0 ? f - R : dk * LN2_HI - (R - dk * LN2_LO - f);
  }
  const s = f / (2 + f);
  const z = s * s;
  const w = z * z;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  const R = t2 + t1;
  if (((hx - 0x6147a) | (0x6b851 - hx)) > 0) {
    const hfsq = 0.5 * f * f;
    if (k === 0) return f - (hfsq - s * (hfsq + R));
    return dk * LN2_HI - (hfsq - (s * (hfsq + R) + dk * LN2_LO) - f);
  }
  if (k === 0) return f - s * (f - R);
  return dk * LN2_HI - (s * (f - R) - dk * LN2_LO - f);
}
