// How a job is split over scales (coarse to fine): the image size at each scale and how many
// iterations each gets. Coarse scales are cheap (¼ the pixels per halving) and settle the
// large-scale structure; the finest scale, warm-started from the one below, only adds detail.
// Iterations shrink by ITER_RATIO per finer scale: the subject is settled where it is cheap and
// VGG's deep layers can still see it (≥ MIN_SCALE_SIDE), and few full-size evaluations are needed.
import { SIZE_MULTIPLE } from "./vgg";

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

/**
 * Coarsest scale allowed (longest side). relu4_2, the content layer, is ÷8: at 64 px it has 8 pixels
 * a side and cannot hold the subject, which then dissolves into style; at 128 it has 16.
 */
export const MIN_SCALE_SIDE = 128;

/** Each finer scale gets this many times fewer iterations than the one below it. */
export const ITER_RATIO = 3;

/**
 * `detailIters`: each scale above the coarsest gets at least this many iterations, where the job has
 * enough (StyleOptions.detailIters: 6 by default, 10 for the High preset).
 */
export function planScales(
  contentW: number,
  contentH: number,
  size: number,
  scales: number,
  iters: number,
  detailIters: number,
): Plan {
  const long = Math.max(contentW, contentH);
  const width = Math.max(1, Math.round((contentW * size) / long));
  const height = Math.max(1, Math.round((contentH * size) / long));
  // Scale i (of n) has the longest side size / 2^(n-1-i); drop ones that would be too small.
  let n = Math.max(1, Math.min(scales, iters));
  while (n > 1 && size / 2 ** (n - 1) < MIN_SCALE_SIDE) n--;
  const shares = Array.from({ length: n }, (_, i) => ITER_RATIO ** (n - 1 - i));
  const total = shares.reduce((a, b) => a + b, 0);
  // Finer scales get at least detailIters (a 1024 px job's share would be 2: too few to add any
  // detail) — at most half the job's iterations in all, for short jobs — and the coarsest scale
  // takes the rest.
  const floor = Math.min(detailIters, Math.floor(iters / (2 * n)));
  const counts = shares.map((s) => Math.max(floor, Math.floor((iters * s) / total)));
  counts[0] = iters - counts.slice(1).reduce((a, b) => a + b, 0);
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
