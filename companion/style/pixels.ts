// RGBA images ⇄ the network's input, and the colour maths of --preserve-colors.
// Network input (Caffe/Keras VGG): planar BGR, 0..255, ImageNet mean subtracted.
import type { RgbaImage } from "../image";

/** ImageNet mean, B, G, R. */
export const MEAN_BGR = [103.939, 116.779, 123.68] as const;

/** RGBA → planar BGR minus mean, [3, h, w]. Transparent pixels are composited over white. */
export function toNetwork(img: RgbaImage): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  const d = img.data;
  for (let p = 0; p < n; p++) {
    const a = d[p * 4 + 3] / 255;
    const white = 255 * (1 - a);
    for (let c = 0; c < 3; c++) out[c * n + p] = d[p * 4 + (2 - c)] * a + white - MEAN_BGR[c];
  }
  return out;
}

/** Planar BGR minus mean → opaque RGBA, clipped to 0..255. */
export function fromNetwork(x: Float32Array, width: number, height: number): RgbaImage {
  const n = width * height;
  const data = new Uint8Array(4 * n);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) data[p * 4 + (2 - c)] = clamp255(x[c * n + p] + MEAN_BGR[c]);
    data[p * 4 + 3] = 255;
  }
  return { width, height, data };
}

const clamp255 = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

// ---- colour (YIQ, as in Gatys et al. 2016, "Preserving color in neural artistic style transfer") ----

export function yiq(r: number, g: number, b: number): [number, number, number] {
  return [0.299 * r + 0.587 * g + 0.114 * b, 0.596 * r - 0.274 * g - 0.322 * b, 0.211 * r - 0.523 * g + 0.312 * b];
}

function rgbFromYiq(y: number, i: number, q: number): [number, number, number] {
  return [y + 0.956 * i + 0.621 * q, y - 0.272 * i - 0.647 * q, y - 1.106 * i + 1.703 * q];
}

/** Mean and standard deviation of luminance (Y), weighted by alpha. */
export function lumaStats(img: RgbaImage): { mean: number; std: number } {
  let s = 0;
  let s2 = 0;
  let w = 0;
  const d = img.data;
  for (let p = 0; p < d.length; p += 4) {
    const a = d[p + 3] / 255;
    const y = yiq(d[p], d[p + 1], d[p + 2])[0];
    s += a * y;
    s2 += a * y * y;
    w += a;
  }
  const mean = w ? s / w : 0;
  return { mean, std: w ? Math.sqrt(Math.max(0, s2 / w - mean * mean)) : 0 };
}

/** The style image reduced to luminance, with its mean/std matched to the content's (grey RGB). */
export function luminanceOnly(style: RgbaImage, target: { mean: number; std: number }): RgbaImage {
  const src = lumaStats(style);
  const gain = src.std > 1e-6 ? target.std / src.std : 1;
  const data = new Uint8Array(style.data.length);
  const d = style.data;
  for (let p = 0; p < d.length; p += 4) {
    const y = clamp255((yiq(d[p], d[p + 1], d[p + 2])[0] - src.mean) * gain + target.mean);
    data[p] = data[p + 1] = data[p + 2] = y;
    data[p + 3] = d[p + 3];
  }
  return { width: style.width, height: style.height, data };
}

/** The output's luminance with the content's chroma (I, Q): same size images. */
export function transferChroma(output: RgbaImage, content: RgbaImage): RgbaImage {
  const data = new Uint8Array(output.data.length);
  const o = output.data;
  const c = content.data;
  for (let p = 0; p < o.length; p += 4) {
    const [y] = yiq(o[p], o[p + 1], o[p + 2]);
    const [, i, q] = yiq(c[p], c[p + 1], c[p + 2]);
    const rgb = rgbFromYiq(y, i, q);
    data[p] = clamp255(rgb[0]);
    data[p + 1] = clamp255(rgb[1]);
    data[p + 2] = clamp255(rgb[2]);
    data[p + 3] = o[p + 3];
  }
  return { width: output.width, height: output.height, data };
}

/** A region mask from an image: white, opaque = 1; black or transparent = 0. */
export function maskFromImage(img: RgbaImage): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const d = img.data;
  for (let p = 0; p < n; p++) out[p] = (yiq(d[p * 4], d[p * 4 + 1], d[p * 4 + 2])[0] / 255) * (d[p * 4 + 3] / 255);
  return out;
}

/** Composite over white (what the network sees for transparent pixels), alpha set to 255. */
export function flattenOnWhite(img: RgbaImage): RgbaImage {
  const data = new Uint8Array(img.data.length);
  const d = img.data;
  for (let p = 0; p < d.length; p += 4) {
    const a = d[p + 3] / 255;
    for (let c = 0; c < 3; c++) data[p + c] = Math.round(d[p + c] * a + 255 * (1 - a));
    data[p + 3] = 255;
  }
  return { width: img.width, height: img.height, data };
}

/** `img` with the alpha channel of `alpha` (same size): the result keeps the layer's silhouette. */
export function withAlphaOf(img: RgbaImage, alpha: RgbaImage): RgbaImage {
  const data = Uint8Array.from(img.data);
  for (let p = 3; p < data.length; p += 4) data[p] = alpha.data[p];
  return { width: img.width, height: img.height, data };
}

/** Seeded uniform noise over the whole pixel range, in network space. */
export function noiseNetwork(width: number, height: number, seed: number): Float32Array {
  const n = width * height;
  const out = new Float32Array(3 * n);
  let a = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    // mulberry32
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 255 - MEAN_BGR[Math.floor(i / n)];
  }
  return out;
}
