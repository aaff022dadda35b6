import { describe, expect, it } from "vitest";
import { ITER_RATIO, MIN_SCALE_SIDE, planScales } from "../../shared/style/plan";

describe("planScales", () => {
  it("halves the size per coarser scale, keeps sides multiples of 16 and the iterations' sum", () => {
    const p = planScales(1000, 750, 512, 3, 100, 6);
    expect([p.width, p.height]).toEqual([512, 384]);
    expect(p.scales.map((s) => [s.width, s.height])).toEqual([
      [128, 96],
      [256, 192],
      [512, 384],
    ]);
    expect(p.scales.reduce((a, s) => a + s.iters, 0)).toBe(100);
    // Coarse scales are cheaper (¼ the pixels), so they get ITER_RATIO times the iterations.
    for (const i of [0, 1]) {
      const ratio = p.scales[i].iters / p.scales[i + 1].iters;
      expect(ratio).toBeGreaterThan(ITER_RATIO * 0.75); // up to rounding
      expect(ratio).toBeLessThan(ITER_RATIO * 1.25);
    }
  });

  it("drops scales that would be too small and never plans more scales than iterations", () => {
    expect(planScales(100, 100, 256, 5, 50, 6).scales.map((s) => s.width)).toEqual([128, 256]);
    expect(planScales(100, 100, 64, 3, 50, 6).scales.map((s) => s.width)).toEqual([64]);
    expect(planScales(100, 100, 512, 3, 1, 6).scales).toHaveLength(1);
    for (const s of planScales(300, 40, 256, 3, 30, 6).scales) {
      expect(s.width % 16).toBe(0);
      expect(s.height).toBeGreaterThanOrEqual(32);
      expect(Math.max(s.width, s.height)).toBeGreaterThanOrEqual(MIN_SCALE_SIDE);
    }
  });

  it("gives every finer scale at least detailIters when the job has the iterations, the coarsest the rest", () => {
    const big = planScales(1024, 768, 1024, 4, 100, 6);
    expect(big.scales.map((s) => s.width)).toEqual([128, 256, 512, 1024]);
    expect(big.scales[3].iters).toBe(6); // its ⅓-per-scale share would be 2
    // More detail iterations come out of the coarsest scale's share.
    const high = planScales(1024, 768, 1024, 4, 112, 10);
    expect(high.scales.map((s) => s.iters)).toEqual([67, 25, 10, 10]);
    expect(big.scales.reduce((a, s) => a + s.iters, 0)).toBe(100);
    expect(big.scales[0].iters).toBeGreaterThan(big.scales[1].iters);
    // A short job keeps most of its iterations at the coarsest scale.
    const short = planScales(1024, 768, 256, 4, 8, 6);
    expect(short.scales.map((s) => s.iters)).toEqual([6, 2]);
  });
});
