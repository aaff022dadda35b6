// Focus that shows: a fixed-seed run of 60 triangles on a 256 px coffee-like picture with its
// right half in focus, at the default focus weight, against the same run without focus.
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import type { RgbaImage } from "../../companion/image";
import { runPrimitives } from "../../companion/primitives/run";
import { renderRgba } from "../../companion/primitives/render";
import { type PrimitivesOptions, PrimitivesOptionsSchema } from "../../shared/protocol";
import type { ShapeList } from "../../shared/shapes";
import { shapeBounds } from "../../shared/svg";
import { coffeeLike } from "./helpers";

const W = 256;
const H = 192;
const picture = coffeeLike(W, H);
const inFocus = (x: number) => x >= W / 2;
const rightHalf: RgbaImage = { width: W, height: H, data: new Uint8Array(W * H * 4) };
for (let y = 0; y < H; y++) for (let x = W / 2; x < W; x++) rightHalf.data.set([255, 255, 255, 255], 4 * (y * W + x));

async function run(focus?: RgbaImage): Promise<ShapeList> {
  const options: PrimitivesOptions = v.parse(PrimitivesOptionsSchema, { count: 60, workSize: W, seed: 7 });
  return (await runPrimitives(picture, options, { workers: 2, focus })).list;
}

/** RMSE over RGB of the rendered result against the picture, inside and outside the focus. */
async function errors(list: ShapeList) {
  const out = await renderRgba(list, { width: W, height: H });
  const sum = [0, 0];
  for (let i = 0; i < W * H; i++)
    for (let ch = 0; ch < 3; ch++)
      sum[inFocus(i % W) ? 0 : 1] += (out.data[4 * i + ch] - picture.data[4 * i + ch]) ** 2;
  const n = (W / 2) * H * 3;
  return { inside: Math.sqrt(sum[0] / n) / 255, outside: Math.sqrt(sum[1] / n) / 255 };
}

const centredInside = (list: ShapeList) =>
  list.shapes.filter((s) => {
    const b = shapeBounds(s);
    return inFocus(b.x + b.width / 2);
  }).length;

describe("focus at its default weight", () => {
  it("puts ≥ 1.5× the shapes in the focus and clearly cuts the error there", async () => {
    const [plain, focused] = [await run(), await run(rightHalf)];
    const [a, b] = [await errors(plain), await errors(focused)];
    const shown = (x: number) => x.toFixed(4);
    console.log(
      `focus: centred ${centredInside(plain)} → ${centredInside(focused)}, inside ${shown(a.inside)} → ${shown(b.inside)}, outside ${shown(a.outside)} → ${shown(b.outside)}`,
    );
    expect(centredInside(focused)).toBeGreaterThanOrEqual(1.5 * centredInside(plain));
    // Not the 0.75× once hoped for: error falls only as shapes^-0.2 here, so even every shape
    // in the focus cannot reach it (README, "Focus"); 0.9× is a clear, honest margin.
    expect(b.inside).toBeLessThanOrEqual(0.9 * a.inside);
  }, 60_000);
});
