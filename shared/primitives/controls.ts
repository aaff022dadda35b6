// The two designer controls on the search: focus (where detail matters) and palette (which
// colours shapes may take), turned into what the model works with.
import type { Color } from "../shapes";

/**
 * A typed hex colour ("#1D3B8F", "f2c230", "#fff") as "#rrggbb", or null when it is not one. The
 * short form needs its "#": a bare "255" or "add" is not taken for a colour.
 */
export function normalHex(text: string): string | null {
  const m = /^(?:#?([0-9a-f]{6})|#([0-9a-f]{3}))$/i.exec(text.trim());
  if (!m) return null;
  const h = (m[1] ?? [...m[2]].map((c) => c + c).join("")).toLowerCase();
  return `#${h}`;
}

/** "#rrggbb" or "rrggbb" → colour. */
export function parseHex(hex: string): Color {
  const n = Number.parseInt(hex.replace(/^#/, ""), 16);
  return { r: (n >> 16) & 255, g: (n >> 8) & 255, b: n & 255, a: 255 };
}

/** Palette hex colours as flat RGB triples (duplicates dropped). */
export function paletteRgb(hexes: readonly string[]): number[] {
  const seen = new Set<number>();
  const out: number[] = [];
  for (const hex of hexes) {
    const c = parseHex(hex);
    const key = (c.r << 16) | (c.g << 8) | c.b;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(c.r, c.g, c.b);
  }
  return out;
}

/** Why a focus mask that marks nothing is refused (not ignored: the designer asked for a focus). */
export const NO_FOCUS =
  "marks no area: it is black or transparent everywhere (white, or grey for less, marks where detail matters)";

/** Whether a focus mask marks anything (some pixel light and not transparent); else it would change nothing. */
export function marksFocus(mask: Uint8Array | Uint8ClampedArray): boolean {
  for (let i = 0; i < mask.length; i += 4)
    if (mask[i + 3] > 0 && (mask[i] | mask[i + 1] | mask[i + 2]) > 0) return true;
  return false;
}

/**
 * Error weight per pixel from a focus mask at the working size: 1 where the mask is black or
 * transparent, `weight` where it is white and opaque, in between for grey or soft edges.
 */
export function focusWeights(mask: Uint8Array | Uint8ClampedArray, width: number, height: number, weight: number) {
  const out = new Float64Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const lum = (0.299 * mask[4 * i] + 0.587 * mask[4 * i + 1] + 0.114 * mask[4 * i + 2]) / 255;
    out[i] = 1 + (weight - 1) * lum * (mask[4 * i + 3] / 255);
  }
  return out;
}
