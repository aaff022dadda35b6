// `stylize primitives --style <img>`: paint the input in a style first (the style engine, as
// `stylize style` does), then the shapes are found on that painting. Styles are decoded once for a batch.
import * as v from "valibot";
import { DEVICES, StyleOptionsSchema } from "../../shared/protocol";
import { UserError } from "../errors";
import { encodePng, loadImage, type RgbaImage } from "../image";
import { writeOutput } from "../outputs";
import { runStyle } from "../style/engine";
import { progressBar } from "../style/command";
import { defaultWeightsPath } from "../style/weights";
import { parseIntOption, parseRealOption } from "./command";

export interface PaintFlags {
  style?: string;
  weights?: string;
  styleSize: string;
  iters: string;
  styleWeight: string;
  device: string;
  painting?: string;
}

export type Painter = (content: string, quiet: boolean) => Promise<RgbaImage>;

/** Checks the style flags and decodes the style images; the painter then styles each input. */
export async function painter(f: PaintFlags & { style: string }): Promise<Painter> {
  if (!(DEVICES as readonly string[]).includes(f.device)) {
    throw new UserError("bad-message", `--device must be one of ${DEVICES.join(", ")} (got "${f.device}")`);
  }
  const options = v.parse(StyleOptionsSchema, {
    size: parseIntOption("--style-size", f.styleSize, 16, 2048),
    iters: parseIntOption("--iters", f.iters, 1, 5000),
    styleWeight: parseRealOption("--style-weight", f.styleWeight, 0, 1e12),
    device: f.device,
    previewEvery: 0,
  });
  const paths = f.style.split(",").filter((s) => s.trim());
  if (paths.length === 0 || paths.length > 8) throw new UserError("bad-message", "--style takes 1 to 8 images");
  const styles = await Promise.all(paths.map((p) => loadImage(p.trim(), { maxSide: options.size })));
  const weights = f.weights ?? defaultWeightsPath();
  return async (input, quiet) => {
    const content = await loadImage(input, { maxSide: options.size });
    const onNote = (m: string) => process.stderr.write(`${m}\n`);
    const bar = quiet ? undefined : progressBar("painting ");
    const { image } = await runStyle({ content, styles }, { options, weights, onNote, onProgress: bar });
    if (!quiet) process.stderr.write("\n");
    if (f.painting) await writeOutput(f.painting, await encodePng(image));
    return image;
  };
}
