// Palettes from the file's colour styles and variables, or typed: never more than the engine takes.
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { defaultSettings, type PaletteEntry, SettingsSchema } from "../../shared/plugin-messages";
import { paletteFromEntries, parsePaletteText } from "../../ui/palette";

const hex = (i: number) => `#${i.toString(16).padStart(6, "0")}`;
const entry = (kind: PaletteEntry["kind"], i: number): PaletteEntry => ({
  kind,
  id: `${kind}:${i}`,
  name: `c${i}`,
  hex: hex(i),
});
/** Settings saved with this palette must pass the schema the plugin checks them with. */
const saves = (palette: string[]) => {
  const d = defaultSettings();
  return v.safeParse(SettingsSchema, { ...d, primitives: { ...d.primitives, palette } }).success;
};

describe("palette", () => {
  it("a file with 300 colours gives 256, styles before variables, and says how many were left out", () => {
    const entries = [
      ...Array.from({ length: 200 }, (_, i) => entry("style", i)),
      ...Array.from({ length: 100 }, (_, i) => entry("variable", 1000 + i)),
    ];
    const { palette, note } = paletteFromEntries(entries);
    expect(palette).toHaveLength(256);
    expect(palette.slice(0, 200)).toEqual(entries.slice(0, 200).map((e) => e.hex));
    expect(palette[200]).toBe(hex(1000));
    expect(note).toMatch(/256 colours.*44 more were left out.*styles first/);
    expect(saves(palette)).toBe(true);
  });

  it("colours shared by a style and a variable count once; small files are taken whole", () => {
    const { palette, note } = paletteFromEntries([entry("style", 1), entry("variable", 1), entry("variable", 2)]);
    expect(palette).toEqual([hex(1), hex(2)]);
    expect(note).not.toMatch(/left out/);
    expect(paletteFromEntries([]).note).toMatch(/no solid colour styles/);
  });

  it("typed colours: valid ones only, at most 256, with a note", () => {
    const some = parsePaletteText("#1D3B8F, f2c230; #FFF nope #12345 add");
    expect(some.palette).toEqual(["#1d3b8f", "#f2c230", "#ffffff"]);
    expect(some.note).toBe("Not hex colours, left out: nope, #12345, add.");
    const typed = Array.from({ length: 300 }, (_, i) => hex(i)).join(", ");
    const { palette, note } = parsePaletteText(typed);
    expect(palette).toHaveLength(256);
    expect(note).toMatch(/44 more were left out/);
    expect(saves(palette)).toBe(true);
  });
});
