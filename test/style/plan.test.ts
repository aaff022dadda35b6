import { describe, expect, it } from "vitest";
import { MIN_SCALE_SIDE, planScales } from "../../companion/style/plan";

describe("planScales", () => {
  it("halves the size per coarser scale, keeps sides multiples of 16 and the iterations' sum", () => {
    const p = planScales(1000, 750, 512, 3, 100);
    expect([p.width, p.height]).toEqual([512, 384]);
    expect(p.scales.map((s) => [s.width, s.height])).toEqual([
      [128, 96],
      [256, 192],
      [512, 384],
    ]);
    expect(p.scales.reduce((a, s) => a + s.iters, 0)).toBe(100);
    // Coarse scales are cheaper, so they get more iterations.
    expect(p.scales[0].iters).toBeGreaterThan(p.scales[1].iters);
    expect(p.scales[1].iters).toBeGreaterThan(p.scales[2].iters);
  });

  it("drops scales that would be too small and never plans more scales than iterations", () => {
    expect(planScales(100, 100, 128, 5, 50).scales.map((s) => s.width)).toEqual([64, 128]);
    expect(planScales(100, 100, 512, 3, 1).scales).toHaveLength(1);
    for (const s of planScales(300, 40, 256, 3, 30).scales) {
      expect(s.width % 16).toBe(0);
      expect(s.height).toBeGreaterThanOrEqual(32);
      expect(Math.max(s.width, s.height)).toBeGreaterThanOrEqual(MIN_SCALE_SIDE);
    }
  });
});
