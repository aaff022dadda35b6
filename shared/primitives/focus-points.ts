// Where focus candidates start: a random point drawn with probability proportional to each
// pixel's focus (a cumulative table and a binary search: O(log pixels) per draw, no allocation).
import type { Rng } from "./rng";

export class FocusPoints {
  private readonly cdf: Float64Array;
  readonly total: number;

  constructor(
    focus: Float64Array,
    private readonly width: number,
  ) {
    this.cdf = new Float64Array(focus.length);
    let sum = 0;
    for (let i = 0; i < focus.length; i++) this.cdf[i] = sum += focus[i];
    this.total = sum;
  }

  /** A point inside a pixel drawn by focus, into out[0..1] (pixel + a uniform offset). */
  draw(rng: Rng, out: Float64Array): void {
    const u = rng.float() * this.total;
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    out[0] = (lo % this.width) + rng.float();
    out[1] = Math.floor(lo / this.width) + rng.float();
  }
}
