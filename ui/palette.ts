// Palette lists as the designer gives them (typed, or the file's colour styles and variables),
// cut to what the engine takes (MAX_PALETTE colours) with a note saying what was left out.
import type { PaletteEntry } from "../shared/plugin-messages";
import { normalHex } from "../shared/primitives/controls";
import { MAX_PALETTE } from "../shared/protocol";

export type PalettePick = { palette: string[]; note: string | null };

/**
 * "#hex, #hex …" as typed (#1d3b8f, f2c230, #fff) → the colours as "#rrggbb", at most MAX_PALETTE
 * (the first ones); the note names what was not a colour, and what was over the limit.
 */
export function parsePaletteText(text: string): PalettePick {
  const words = text.split(/[\s,;]+/).filter(Boolean);
  const all = [...new Set(words.map(normalHex).filter((c): c is string => c !== null))];
  const notColours = words.filter((w) => normalHex(w) === null);
  const left = all.length - MAX_PALETTE;
  const notes = [
    notColours.length > 0 &&
      `Not hex colours, left out: ${notColours.slice(0, 3).join(", ")}${notColours.length > 3 ? ", …" : ""}.`,
    left > 0 && `Shapes use the first ${MAX_PALETTE} colours; ${left} more were left out.`,
  ].filter((n): n is string => !!n);
  return { palette: all.slice(0, MAX_PALETTE), note: notes.length ? notes.join(" ") : null };
}

/**
 * The file's colour styles and variables as a palette: distinct colours, colour styles first, then
 * variables, each in the file's order (as the plugin lists them), at most MAX_PALETTE.
 */
export function paletteFromEntries(entries: PaletteEntry[]): PalettePick {
  const all = [...new Set(entries.map((e) => e.hex))];
  if (all.length === 0) return { palette: [], note: "This file has no solid colour styles or colour variables yet." };
  const palette = all.slice(0, MAX_PALETTE);
  const left = all.length - palette.length;
  const note =
    left > 0
      ? `${palette.length} colours from your styles and variables: shapes will use them. ${left} more were left out (at most ${MAX_PALETTE}: colour styles first, then variables, in the file's order).`
      : `${palette.length} colours from your styles and variables: shapes will use them.`;
  return { palette, note };
}
