// How a job is split over scales (coarse to fine): the image size at each scale and how many
// iterations each gets. Coarse scales are cheap (¼ the pixels per halving) and settle the
// large-scale structure; the finest scale only has to add detail.
import { SIZE_MULTIPLE } from "./graph/vgg";

export interface Scale {
  width: number;
  height: number;
  iters: number;
}

export interface Plan {
  /** The output size: longest side = options.size, the content's aspect ratio. */
  width: number;
  height: number;
  scales: Scale[];
}

/** Coarsest scale allowed: below this the deepest layers (÷16) have almost no pixels. */
export const MIN_SCALE_SIDE = 64;

export function planScales(contentW: number, contentH: number, size: number, scales: number, iters: number): Plan {
  const long = Math.max(contentW, contentH);
  const width = Math.max(1, Math.round((contentW * size) / long));
  const height = Math.max(1, Math.round((contentH * size) / long));
  // Scale i (of n) has the longest side size / 2^(n-1-i); drop ones that would be too small.
  let n = Math.max(1, Math.min(scales, iters));
  while (n > 1 && size / 2 ** (n - 1) < MIN_SCALE_SIDE) n--;
  // Iterations halve from one scale to the next finer one: shares 2^(n-1-i) / (2^n - 1).
  const shares = Array.from({ length: n }, (_, i) => 2 ** (n - 1 - i));
  const total = shares.reduce((a, b) => a + b, 0);
  const counts = shares.map((s) => Math.max(1, Math.floor((iters * s) / total)));
  counts[0] += iters - counts.reduce((a, b) => a + b, 0); // the rounding remainder goes to the cheapest scale
  return {
    width,
    height,
    scales: counts.map((c, i) => {
      const f = 1 / 2 ** (n - 1 - i);
      return { width: snap(width * f), height: snap(height * f), iters: c };
    }),
  };
}

/** Nearest multiple of 16, at least 32: the graphs pool four times and need ≥ 2 pixels at relu5_1. */
export function snap(v: number): number {
  return Math.max(2 * SIZE_MULTIPLE, Math.round(v / SIZE_MULTIPLE) * SIZE_MULTIPLE);
}
