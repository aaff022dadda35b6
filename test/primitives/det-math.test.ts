import { describe, expect, it } from "vitest";
import { detCos, detLog, detSin } from "../../shared/primitives/det-math";
import { Rng } from "../../shared/primitives/rng";

/** Within one unit in the last place of the exact value (Math.* is itself within ~1 ulp). */
function closeUlp(a: number, b: number): boolean {
  const ulp = Number.EPSILON * Math.max(Math.abs(b), Number.MIN_VALUE);
  return Math.abs(a - b) <= 2 * ulp + 1e-300;
}

describe("deterministic sin, cos, log", () => {
  it("agree with Math.* to within about one ulp over the engine's ranges", () => {
    const rng = new Rng(7);
    for (let i = 0; i < 50_000; i++) {
      const x = (rng.float() - 0.5) * (i % 2 ? 20 : 4000);
      expect(closeUlp(detSin(x), Math.sin(x))).toBe(true);
      expect(closeUlp(detCos(x), Math.cos(x))).toBe(true);
      const u = rng.float() * 10 ** ((i % 9) - 4) + 2 ** -40;
      expect(closeUlp(detLog(u), Math.log(u))).toBe(true);
    }
  });

  it("keep the digits near multiples of π/2 and the exact special values", () => {
    for (let k = -8; k <= 8; k++) {
      const x = (k * Math.PI) / 2;
      expect(Math.abs(detSin(x) - Math.sin(x))).toBeLessThan(1e-30 + Math.abs(Math.sin(x)) * 1e-15);
      expect(Math.abs(detCos(x) - Math.cos(x))).toBeLessThan(1e-30 + Math.abs(Math.cos(x)) * 1e-15);
    }
    expect(detSin(0)).toBe(0);
    expect(detCos(0)).toBe(1);
    expect(detLog(1)).toBe(0);
    expect(detLog(Math.E)).toBeCloseTo(1, 15);
    expect(detLog(2 ** -32)).toBeCloseTo(-32 * Math.LN2, 12);
  });
});
