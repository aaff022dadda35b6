// Two-stop linear gradient colours in closed form (see model.ts for the sums behind them).
//
// A covered pixel at s ∈ [0, 1] along the gradient gets f = (1−s)·c0 + s·c1, blended at opacity a
// over the canvas k. With r = t − (1−a)·k (its G term) the error change per channel is
//   Σw(r − a·f)² − Σw·d² = H + a²(c0²·S00 + 2·c0·c1·S01 + c1²·S11) − 2a(c0·R0 + c1·R1),
//   S00 = Σw(1−s)², S01 = Σw·s(1−s), S11 = Σw·s², R0 = Σw(1−s)·r, R1 = Σw·s·r:
// a quadratic in (c0, c1) whose minimum is a 2×2 linear system per channel (Cramer's rule). From
// W = Σw, S1 = Σw·s, S2 = Σw·s², G = Σw·r and Rs = Σw·s·r: S00 = W − 2·S1 + S2, S01 = S1 − S2,
// S11 = S2, R0 = G − Rs, R1 = Rs. Only + − × ÷ here (det-math.ts: same bits in every runtime).

/** The sums one gradient candidate is scored from. */
export class GradientSums {
  W = 0;
  S1 = 0;
  S2 = 0;
  H = 0;
  readonly G = new Float64Array(3);
  readonly Rs = new Float64Array(3);

  set(
    W: number,
    S1: number,
    S2: number,
    H: number,
    g0: number,
    g1: number,
    g2: number,
    r0: number,
    r1: number,
    r2: number,
  ) {
    this.W = W;
    this.S1 = S1;
    this.S2 = S2;
    this.H = H;
    this.G[0] = g0;
    this.G[1] = g1;
    this.G[2] = g2;
    this.Rs[0] = r0;
    this.Rs[1] = r1;
    this.Rs[2] = r2;
  }
}

const byte = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/**
 * Best stop colours (c0 at s = 0, c1 at s = 1) into c0/c1 and the error change they give.
 * Unconstrained least squares, then a stop outside 0..255 is clamped and the other re-solved
 * given it; both rounded. With a palette, see bestPalettePair.
 */
export function solveGradient(
  m: GradientSums,
  a: number,
  palette: Float64Array | null,
  c0: Int32Array,
  c1: Int32Array,
): number {
  const W = m.W;
  if (W === 0) {
    c0[0] = c0[1] = c0[2] = c1[0] = c1[1] = c1[2] = 0;
    return 0;
  }
  const s00 = W - 2 * m.S1 + m.S2;
  const s01 = m.S1 - m.S2;
  const s11 = m.S2;
  if (palette) return bestPalettePair(m, a, palette, s00, s01, s11, c0, c1);
  const det = s00 * s11 - s01 * s01;
  // s (nearly) constant over the shape, e.g. one pixel wide across the direction: one colour.
  const flat = !(det > 1e-9 * W * W);
  let delta = m.H;
  let flatDelta = m.H;
  for (let ch = 0; ch < 3; ch++) {
    const r1 = m.Rs[ch];
    const r0 = m.G[ch] - r1;
    let x: number;
    let y: number;
    if (flat) {
      x = y = byte(m.G[ch] / (a * W));
    } else {
      x = (s11 * r0 - s01 * r1) / (a * det);
      y = (s00 * r1 - s01 * r0) / (a * det);
      // Outside 0..255: clamp that stop, re-solve the other given it; if that one clamps too,
      // re-solve the first given it (a convex quadratic: each step only lowers the error).
      if (x < 0 || x > 255) {
        x = x < 0 ? 0 : 255;
        y = (r1 - a * s01 * x) / (a * s11);
        if (y < 0 || y > 255) {
          y = y < 0 ? 0 : 255;
          x = (r0 - a * s01 * y) / (a * s00);
        }
      } else if (y < 0 || y > 255) {
        y = y < 0 ? 0 : 255;
        x = (r0 - a * s01 * y) / (a * s00);
        if (x < 0 || x > 255) {
          x = x < 0 ? 0 : 255;
          y = (r1 - a * s01 * x) / (a * s11);
        }
      }
      x = byte(x);
      y = byte(y);
    }
    c0[ch] = x;
    c1[ch] = y;
    delta += a * a * (x * x * s00 + 2 * x * y * s01 + y * y * s11) - 2 * a * (x * r0 + y * r1);
    const f = byte(m.G[ch] / (a * W));
    flatDelta += a * f * (a * W * f - 2 * m.G[ch]);
  }
  // Rounding both stops can lose more than rounding one colour: never do worse than flat.
  if (flatDelta < delta) {
    for (let ch = 0; ch < 3; ch++) c0[ch] = c1[ch] = byte(m.G[ch] / (a * W));
    return flatDelta;
  }
  return delta;
}

const R0 = new Float64Array(3);
const R1 = new Float64Array(3);

/**
 * Palette stops: start from the best single entry for both (so a gradient never does worse than a
 * flat palette colour), then the best c1 given c0, c0 given c1, c1 given c0 — each the entry that
 * lowers the error most given the other, O(entries) each instead of O(entries²) for every pair.
 */
function bestPalettePair(
  m: GradientSums,
  a: number,
  pal: Float64Array,
  s00: number,
  s01: number,
  s11: number,
  c0: Int32Array,
  c1: Int32Array,
): number {
  for (let ch = 0; ch < 3; ch++) {
    R1[ch] = m.Rs[ch];
    R0[ch] = m.G[ch] - m.Rs[ch];
  }
  let x = bestEntry(pal, a, m.W, 0, 0, m.G, 0);
  let y = x;
  y = bestEntry(pal, a, s11, s01, x, R1, y);
  x = bestEntry(pal, a, s00, s01, y, R0, x);
  y = bestEntry(pal, a, s11, s01, x, R1, y);
  let delta = m.H;
  for (let ch = 0; ch < 3; ch++) {
    const cx = pal[x + ch];
    const cy = pal[y + ch];
    c0[ch] = cx;
    c1[ch] = cy;
    delta += a * a * (cx * cx * s00 + 2 * cx * cy * s01 + cy * cy * s11) - 2 * a * (cx * R0[ch] + cy * R1[ch]);
  }
  return delta;
}

/**
 * The entry (its offset in pal) minimising Σch a²(S·p² + 2·X·p·o) − 2a·R·p, o being the other
 * stop (the entry at offset `other`). `keep` is the current entry: only a strictly better one replaces it.
 */
function bestEntry(
  pal: Float64Array,
  a: number,
  S: number,
  X: number,
  other: number,
  R: ArrayLike<number>,
  keep: number,
) {
  const cost = (i: number) => {
    let e = 0;
    for (let ch = 0; ch < 3; ch++) {
      const p = pal[i + ch];
      e += a * a * (S * p * p + 2 * X * p * pal[other + ch]) - 2 * a * R[ch] * p;
    }
    return e;
  };
  let best = cost(keep);
  let at = keep;
  for (let i = 0; i < pal.length; i += 3) {
    const e = cost(i);
    if (e < best) {
      best = e;
      at = i;
    }
  }
  return at;
}
