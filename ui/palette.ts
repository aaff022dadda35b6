// Palette lists as the designer gives them (typed, or the file's colour styles and variables),
// cut to what the engine takes (MAX_PALETTE colours) with a note saying what was left out.
import type { PaletteEntry } from "../shared/plugin-messages";
import { MAX_PALETTE } from "../shared/protocol";

const HEX = /^#?[0-9a-fA-F]{6}$/;

export type PalettePick = { palette: string[]; note: string | null };

/** "#hex, #hex …" as typed → the valid colours, "#"-prefixed, at most MAX_PALETTE (the first ones). */
export function parsePaletteText(text: string): PalettePick {
  const all = [
    ...new Set(
      text
        .split(/[\s,;]+/)
        .filter((c) => HEX.test(c))
        .map((c) => (c.startsWith("#") ? c : `#${c}`).toLowerCase()),
    ),
  ];
  const left = all.length - MAX_PALETTE;
  return {
    palette: all.slice(0, MAX_PALETTE),
    note: left > 0 ? `Shapes use the first ${MAX_PALETTE} colours; ${left} more were left out.` : null,
  };
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
