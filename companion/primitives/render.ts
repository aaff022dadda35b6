// Writing a primitives result: `.svg` (scaled shapes), `.png` (that SVG rendered by sharp) or
// `.json` (the shared ShapeList). Also the score of a rendered image, used to compare fairly.
import { extname } from "node:path";
import sharp from "sharp";
import type { ShapeList } from "../../shared/shapes";
import { shapesToSvg } from "../../shared/svg";
import { UserError } from "../errors";
import { encodePng, type RgbaImage } from "../image";
import { writeOutput } from "../outputs";

export const OUTPUT_TYPES = [".svg", ".png", ".json"] as const;

/** Refuses output names we cannot write, before any work is done. */
export function checkOutputPath(path: string): void {
  const ext = extname(path).toLowerCase();
  if (!(OUTPUT_TYPES as readonly string[]).includes(ext)) {
    throw new UserError("bad-message", `Cannot write "${path}": the output must end in .svg, .png or .json`);
  }
}

/**
 * Output size with the longest side `longest` and the input's aspect ratio (not the working
 * image's: rounded to whole pixels at 256 px, a 3000×100 banner would come out 3000×105).
 */
export function outputSize(
  input: { width: number; height: number },
  longest: number,
): { width: number; height: number } {
  const k = longest / Math.max(input.width, input.height);
  return { width: Math.max(1, Math.round(input.width * k)), height: Math.max(1, Math.round(input.height * k)) };
}

/**
 * The SVG of a result at a size. `source` (the input image) gives a clipped result (`clip`) its
 * alpha mask: white with the source's alpha, at the output size, as a PNG data URL.
 */
export async function resultSvg(list: ShapeList, size: { width: number; height: number }, source?: RgbaImage) {
  if (!list.clip) return shapesToSvg(list, size);
  if (!source) throw new Error("a clipped result needs its source image for the alpha mask");
  const white = new Uint8Array(source.data.length).fill(255);
  for (let i = 3; i < white.length; i += 4) white[i] = source.data[i];
  const png = await encodePng({ ...source, data: white }, size);
  return shapesToSvg(list, size, `data:image/png;base64,${png.toString("base64")}`);
}

/** Renders the shapes to RGBA at a size via the SVG (what a user's viewer would show). */
export async function renderRgba(
  list: ShapeList,
  size: { width: number; height: number },
  source?: RgbaImage,
): Promise<RgbaImage> {
  const svg = Buffer.from(await resultSvg(list, size, source));
  const { data, info } = await sharp(svg, { limitInputPixels: false })
    .resize(size.width, size.height, { fit: "fill" })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * Writes the result at `size` to each path (a missing folder is made). The SVG (.svg, and .png
 * renders it) is built once for all of them. `source` is the input image (needed when the result
 * is clipped by its alpha).
 */
export async function writeResults(
  list: ShapeList,
  paths: string[],
  size: { width: number; height: number },
  source?: RgbaImage,
): Promise<void> {
  let svg: string | undefined;
  for (const path of paths) {
    checkOutputPath(path);
    const ext = extname(path).toLowerCase();
    let body: string | Buffer = `${JSON.stringify(list)}\n`;
    if (ext !== ".json") {
      svg ??= await resultSvg(list, size, source);
      body = ext === ".svg" ? svg : await sharp(Buffer.from(svg), { limitInputPixels: false }).png().toBuffer();
    }
    await writeOutput(path, body);
  }
}

/** The classic tool's score: RMSE over RGBA, 0..1. Images must have the same size. */
export function rmse(a: RgbaImage, b: RgbaImage): number {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`rmse: sizes differ (${a.width}x${a.height} vs ${b.width}x${b.height})`);
  }
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += (a.data[i] - b.data[i]) ** 2;
  return Math.sqrt(sum / a.data.length) / 255;
}
