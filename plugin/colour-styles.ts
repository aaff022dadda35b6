// The document's local colour styles as a primitives palette, and binding a result's shapes to
// the style of their colour (so the result follows the design system: change the style, the art
// follows). Only single, opaque solid styles count: a shape's colour must be exactly the style's.
import { colorHex } from "../shared/svg";

/** Figma's 0..1 colour as "#rrggbb" (the engine's palette colours are whole bytes). */
const paintHex = (c: RGB) =>
  colorHex({ r: Math.round(c.r * 255), g: Math.round(c.g * 255), b: Math.round(c.b * 255), a: 255 });

export type ColourStyle = { id: string; name: string; hex: string };

type StyleApi = { getLocalPaintStylesAsync?: () => Promise<PaintStyle[]> };

export async function localColourStyles(): Promise<ColourStyle[]> {
  const api = figma as unknown as StyleApi;
  const styles = api.getLocalPaintStylesAsync ? await api.getLocalPaintStylesAsync() : figma.getLocalPaintStyles();
  return styles.flatMap((s) => {
    const [paint, ...rest] = s.paints;
    if (!paint || rest.length > 0 || paint.type !== "SOLID" || (paint.opacity ?? 1) !== 1) return [];
    return [{ id: s.id, name: s.name, hex: paintHex(paint.color) }];
  });
}

type Styled = SceneNode & MinimalFillsMixin & MinimalStrokesMixin & BlendMixin;
type AsyncStyleSetters = {
  setFillStyleIdAsync?: (id: string) => Promise<void>;
  setStrokeStyleIdAsync?: (id: string) => Promise<void>;
};

/**
 * Binds the node's one paint (its fill, or its stroke for a curve) to the style of the same colour,
 * if any. The style's paint is opaque, so the shape's own opacity moves onto the node: it looks the same.
 */
export async function bindColourStyle(node: SceneNode, styleByHex: Map<string, string>): Promise<void> {
  const n = node as Styled & AsyncStyleSetters;
  const fills = n.fills as readonly Paint[];
  const useStroke = fills.length === 0;
  const paint = (useStroke ? n.strokes : fills)[0];
  if (paint?.type !== "SOLID") return;
  const id = styleByHex.get(paintHex(paint.color));
  if (!id) return;
  n.opacity = paint.opacity ?? 1;
  if (useStroke) {
    if (n.setStrokeStyleIdAsync) await n.setStrokeStyleIdAsync(id);
    else n.strokeStyleId = id;
  } else if (n.setFillStyleIdAsync) await n.setFillStyleIdAsync(id);
  else n.fillStyleId = id;
}
