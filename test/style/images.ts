// Small synthetic pictures for the style tests (tests never read ../shared fixtures).
import sharp from "sharp";
import type { RgbaImage } from "../../companion/image";

export function picture(width: number, height: number, rgb: (x: number, y: number) => number[]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const c = rgb(x, y);
      for (let k = 0; k < 3; k++) data[(y * width + x) * 4 + k] = Math.max(0, Math.min(255, Math.round(c[k])));
      data[(y * width + x) * 4 + 3] = c[3] ?? 255;
    }
  return { width, height, data };
}

/** A warm, smooth "photo": a reddish gradient with a soft disc. */
export const warmContent = (w: number, h: number) =>
  picture(w, h, (x, y) => {
    const disc = Math.hypot(x - w / 2, y - h / 2) < h / 3 ? 60 : 0;
    return [150 + disc + (x / w) * 60, 80 + (y / h) * 50, 60 + disc / 2];
  });

/** A cold, busy "painting": blue/green stripes. */
export const coldStripes = (w: number, h: number) =>
  picture(w, h, (x, y) => [20, 120 + 100 * Math.sin((x + 2 * y) / 3), 200 + 50 * Math.cos(x / 2)]);

/** A high-contrast checkerboard in magenta/yellow. */
export const checker = (w: number, h: number, cell = 4) =>
  picture(w, h, (x, y) => ((Math.floor(x / cell) + Math.floor(y / cell)) % 2 ? [250, 230, 20] : [200, 20, 200]));

/** Mean I and Q (YIQ chroma) of an image. */
export function meanChroma(img: RgbaImage): { i: number; q: number } {
  let si = 0;
  let sq = 0;
  const d = img.data;
  const n = d.length / 4;
  for (let p = 0; p < d.length; p += 4) {
    si += 0.596 * d[p] - 0.274 * d[p + 1] - 0.322 * d[p + 2];
    sq += 0.211 * d[p] - 0.523 * d[p + 1] + 0.312 * d[p + 2];
  }
  return { i: si / n, q: sq / n };
}

export function crop(img: RgbaImage, x0: number, y0: number, w: number, h: number): RgbaImage {
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++)
    data.set(img.data.subarray(((y0 + y) * img.width + x0) * 4, ((y0 + y) * img.width + x0 + w) * 4), y * w * 4);
  return { width: w, height: h, data };
}

/** Write a test picture as a PNG file (for the CLI tests). */
export const writePng = (img: RgbaImage, path: string) =>
  sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } })
    .png()
    .toFile(path);
