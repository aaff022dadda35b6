// Transparent layers (background "none"): the result is clipped by the layer's alpha, so the
// search matches colour only where the layer shows. Compared over a backdrop, a pixel of alpha a
// differs by a·(canvas − target), so its error weighs a² (a = 0: nothing to match, no shape spent
// there) and the target is the straight, un-flattened colour. The same weights as focus, so the
// model's closed-form maths stays exact.
import type { Color } from "../shapes";

/** Whether any pixel of RGBA data is less than opaque. */
export function hasTransparency(data: Uint8Array | Uint8ClampedArray): boolean {
  for (let i = 3; i < data.length; i += 4) if (data[i] < 255) return true;
  return false;
}

/** Straight RGB as floats and each pixel's error weight a² (a = alpha 0..1). */
export function coverageTarget(data: Uint8Array | Uint8ClampedArray, width: number, height: number) {
  const rgb = new Float64Array(width * height * 3);
  const weights = new Float64Array(width * height);
  for (let i = 0; i < width * height; i++) {
    for (let ch = 0; ch < 3; ch++) rgb[3 * i + ch] = data[4 * i + ch];
    weights[i] = (data[4 * i + 3] / 255) ** 2;
  }
  return { rgb, weights };
}

/** The weighted mean colour: the best single colour under those weights (black if all are 0). */
export function weightedMean(rgb: Float64Array, weights: Float64Array): Color {
  const sum = [0, 0, 0];
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    total += weights[i];
    for (let ch = 0; ch < 3; ch++) sum[ch] += weights[i] * rgb[3 * i + ch];
  }
  const c = (ch: number) => (total > 0 ? Math.round(sum[ch] / total) : 0);
  return { r: c(0), g: c(1), b: c(2), a: 255 };
}
