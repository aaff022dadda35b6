// Shapes for the UI tests' streamed results.
import type { Color, Shape } from "../../shared/shapes";

/** A right triangle with legs of `n` px. */
export const tri = (n: number, color: Color = { r: 200, g: 40, b: 40, a: 128 }): Shape => ({
  type: "triangle",
  points: [
    [n, 0],
    [0, n],
    [n, n],
  ],
  color,
});
