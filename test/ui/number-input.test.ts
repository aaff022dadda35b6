// The number inputs' clamp: out-of-range text is pulled into range, whole-number fields round
// (the protocol refuses 2.5 shapes), other text is ignored.
import { describe, expect, it } from "vitest";
import { clampInput, COUNT_RANGE } from "../../ui/number-input";

describe("clampInput", () => {
  it("clamps, rounds whole-number fields, and ignores what is not a number", () => {
    expect(clampInput("2.5", COUNT_RANGE.min, COUNT_RANGE.max, true)).toBe(3);
    expect(clampInput("2.4", 1, 10, true)).toBe(2);
    expect(clampInput("0.3", 1, 10, true)).toBe(1);
    expect(clampInput("9000", COUNT_RANGE.min, COUNT_RANGE.max, true)).toBe(5000);
    expect(clampInput("0.25", 0, 1e12)).toBe(0.25);
    expect(clampInput("-4", 0, 1e12)).toBe(0);
    expect(clampInput("abc", 1, 10, true)).toBeUndefined();
    expect(clampInput("", 1, 10, true)).toBeUndefined(); // a field being cleared to type anew
    expect(clampInput(" ", 0, 10)).toBeUndefined();
  });
});
