// Objective figures for a style transfer result, for the quality bench (not used by jobs):
// - subject: structural similarity (SSIM) of the result's luminance to the content's, both shrunk to
//   a 128 px thumbnail — the subject's shapes (houses, a face) without the brush-stroke texture, and
//   comparable between output sizes;
// - content: relu4_2 feature distance to the content, relative to the content's own features
//   (what the content loss sees; 0 = the content itself);
// - style: Gram distance to the style per style layer, relative to the content image's Gram distance,
//   averaged over the layers (1 = as far from the style as the content was, 0 = the style's statistics).
import { type RgbaImage, resizeRgba } from "../image";
import { dot } from "../../shared/style/optim/types";
import { snap } from "../../shared/style/plan";
import { flattenOnWhite, toNetwork, yiq } from "./pixels";
import type { Features, StyleNet } from "./session";

export interface Quality {
  subject: number;
  content: number;
  style: number;
}

/** Longest side of the thumbnail the subject figure compares. */
export const SUBJECT_SIDE = 128;

export async function measureQuality(
  net: StyleNet,
  result: RgbaImage,
  content: RgbaImage,
  style: RgbaImage,
): Promise<Quality> {
  const w = snap(result.width);
  const h = snap(result.height);
  const feats = async (img: RgbaImage, fw: number, fh: number) =>
    net.features(toNetwork(flattenOnWhite(await resizeRgba(img, fw, fh))), fh, fw);
  const r = await feats(result, w, h);
  const c = await feats(content, w, h);
  // The style at the engine's scale: its longest side = the result's.
  const k = Math.max(w, h) / Math.max(style.width, style.height);
  const s = await feats(style, snap(style.width * k), snap(style.height * k));
  return {
    subject: await subjectSimilarity(result, content),
    content: Math.sqrt(sqDist(r.content, c.content) / dot(c.content, c.content)),
    style: styleRatio(r, c, s),
  };
}

function styleRatio(r: Features, c: Features, s: Features): number {
  const ratios = r.grams.map((g, l) => sqDist(g, s.grams[l]) / Math.max(sqDist(c.grams[l], s.grams[l]), 1e-30));
  return ratios.reduce((a, b) => a + b, 0) / ratios.length;
}

/** Mean SSIM of the luminance on 8x8 windows (stride 4) of 128 px thumbnails. */
export async function subjectSimilarity(a: RgbaImage, b: RgbaImage): Promise<number> {
  const k = SUBJECT_SIDE / Math.max(b.width, b.height);
  const w = Math.max(8, Math.round(b.width * k));
  const h = Math.max(8, Math.round(b.height * k));
  const la = luma(flattenOnWhite(await resizeRgba(a, w, h)));
  const lb = luma(flattenOnWhite(await resizeRgba(b, w, h)));
  return ssim(la, lb, w, h);
}

function luma(img: RgbaImage): Float64Array {
  const out = new Float64Array(img.width * img.height);
  for (let i = 0; i < out.length; i++) out[i] = yiq(img.data[4 * i], img.data[4 * i + 1], img.data[4 * i + 2])[0];
  return out;
}

/** SSIM (Wang et al. 2004) with the usual constants for 8-bit values, on square windows. */
export function ssim(a: Float64Array, b: Float64Array, w: number, h: number, win = 8, stride = 4): number {
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  let sum = 0;
  let count = 0;
  for (let y0 = 0; y0 + win <= h; y0 += stride)
    for (let x0 = 0; x0 + win <= w; x0 += stride) {
      let ma = 0;
      let mb = 0;
      for (let y = y0; y < y0 + win; y++)
        for (let x = x0; x < x0 + win; x++) {
          ma += a[y * w + x];
          mb += b[y * w + x];
        }
      const n = win * win;
      ma /= n;
      mb /= n;
      let va = 0;
      let vb = 0;
      let cov = 0;
      for (let y = y0; y < y0 + win; y++)
        for (let x = x0; x < x0 + win; x++) {
          const da = a[y * w + x] - ma;
          const db = b[y * w + x] - mb;
          va += da * da;
          vb += db * db;
          cov += da * db;
        }
      va /= n - 1;
      vb /= n - 1;
      cov /= n - 1;
      sum += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      count++;
    }
  return count ? sum / count : 1;
}

function sqDist(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
}
