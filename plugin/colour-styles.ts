// The file's colour styles and colour variables as a primitives palette, and binding a result's
// shapes to the style or variable of their colour (so the result follows the design system:
// change the style, the art follows). Only opaque solid colours count: a shape's colour must be
// exactly the style's (single solid paint) or the variable's (value in its collection's default mode).
import type { PaletteEntry } from "../shared/plugin-messages";
import { colorHex } from "../shared/svg";

/** Figma's 0..1 colour as "#rrggbb" (the engine's palette colours are whole bytes). */
const paintHex = (c: RGB) =>
  colorHex({ r: Math.round(c.r * 255), g: Math.round(c.g * 255), b: Math.round(c.b * 255), a: 255 });

// documentAccess "dynamic-page" allows only the asynchronous style and variable calls
async function colourStyles(): Promise<PaletteEntry[]> {
  const styles = await figma.getLocalPaintStylesAsync();
  return styles.flatMap((s) => {
    const [paint, ...rest] = s.paints;
    if (paint?.type !== "SOLID" || rest.length > 0 || (paint.opacity ?? 1) !== 1) return [];
    return [{ kind: "style" as const, id: s.id, name: s.name, hex: paintHex(paint.color) }];
  });
}

async function colourVariables(): Promise<PaletteEntry[]> {
  const vars = figma.variables;
  const out: PaletteEntry[] = [];
  for (const variable of await vars.getLocalVariablesAsync("COLOR")) {
    const collection = await vars.getVariableCollectionByIdAsync(variable.variableCollectionId);
    const value = collection && variable.valuesByMode[collection.defaultModeId];
    // aliases and translucent colours cannot be matched exactly by an opaque shape colour
    if (!value || typeof value !== "object" || !("r" in value) || ("a" in value && value.a !== 1)) continue;
    out.push({ kind: "variable", id: variable.id, name: variable.name, hex: paintHex(value) });
  }
  return out;
}

/** Colour styles first, then colour variables. */
export async function localPalette(): Promise<PaletteEntry[]> {
  return [...(await colourStyles()), ...(await colourVariables())];
}

type Styled = SceneNode & MinimalFillsMixin & MinimalStrokesMixin & BlendMixin;

/** What a shape of a given colour is bound to: a style by id, or a variable already looked up. */
export type PaletteBinding = { kind: "style"; id: string } | { kind: "variable"; variable: Variable };

/**
 * The file's palette entries by colour, each variable looked up once here (not once per shape:
 * a result can have thousands). Where a style and a variable share a colour the style wins.
 */
export async function paletteBindings(entries: PaletteEntry[]): Promise<Map<string, PaletteBinding>> {
  const byHex = new Map<string, PaletteBinding>();
  for (const e of entries) {
    if (byHex.get(e.hex)?.kind === "style") continue;
    if (e.kind === "style") byHex.set(e.hex, { kind: "style", id: e.id });
    else if (!byHex.has(e.hex)) {
      const variable = await figma.variables.getVariableByIdAsync(e.id);
      if (variable) byHex.set(e.hex, { kind: "variable", variable });
    }
  }
  return byHex;
}

/**
 * Binds the node's one paint (its fill, or its stroke for a curve) to the style or variable of the
 * same colour, if any. A style's paint is opaque, so the shape's own opacity moves onto the node; a
 * variable binds only the colour, so the paint keeps its opacity. Either way it looks the same.
 */
export async function bindPaletteEntry(node: SceneNode, byHex: Map<string, PaletteBinding>): Promise<void> {
  const n = node as Styled;
  const useStroke = (n.fills as readonly Paint[]).length === 0;
  const paints = useStroke ? n.strokes : (n.fills as readonly Paint[]);
  const paint = paints[0];
  if (paint?.type !== "SOLID") return;
  const binding = byHex.get(paintHex(paint.color));
  if (!binding) return;
  if (binding.kind === "variable") {
    const bound = [figma.variables.setBoundVariableForPaint(paint, "color", binding.variable)];
    if (useStroke) n.strokes = bound;
    else n.fills = bound;
    return;
  }
  n.opacity = paint.opacity ?? 1;
  if (useStroke) await n.setStrokeStyleIdAsync(binding.id);
  else await n.setFillStyleIdAsync(binding.id);
}
