// What the designer has selected, in the terms the UI needs.
import { type LayerInfo, MAX_BATCH, type Selection } from "../shared/plugin-messages";
import { type Box, exportBox, readingOrder } from "./geometry";

export type SizedNode = SceneNode & {
  width: number;
  height: number;
  absoluteRenderBounds: Rect | null;
  exportAsync: ExportMixin["exportAsync"];
};

export function isSized(node: BaseNode): node is SizedNode {
  return "width" in node && "height" in node && "exportAsync" in node && "absoluteRenderBounds" in node;
}

/** Width and height are those of the rendered box (what is exported and what the result matches). */
export function layerInfo(node: SizedNode): LayerInfo {
  const box = node.absoluteRenderBounds ?? node;
  return { id: node.id, name: node.name || "Untitled", type: node.type, width: box.width, height: box.height };
}

/** The box this layer exports, or why it cannot be a source. */
function boxOrProblem(node: SceneNode): { box: Box } | { problem: string } {
  if (!isSized(node)) return { problem: `“${node.name}” has no area to export. Select a layer with a size.` };
  try {
    return { box: exportBox(node) };
  } catch (err) {
    return { problem: (err as Error).message };
  }
}

/** One layer, or several for a batch (one result each), in reading order. */
export function describeSelection(nodes: readonly SceneNode[]): Selection {
  if (nodes.length === 0) {
    return {
      ok: false,
      reason: "none",
      hint: "Select one layer (a frame, group or image) to stylize, or several for one result each.",
    };
  }
  if (nodes.length > MAX_BATCH) {
    return {
      ok: false,
      reason: "multiple",
      hint: `${nodes.length} layers are selected; Stylize takes at most ${MAX_BATCH} at a time.`,
    };
  }
  // Each box read from Figma once: the reading order compares them many times.
  const boxes = new Map<SceneNode, Box>();
  for (const node of nodes) {
    const r = boxOrProblem(node);
    if ("problem" in r)
      return { ok: false, reason: "none", hint: nodes.length > 1 ? `${r.problem} (Or deselect it.)` : r.problem };
    boxes.set(node, r.box);
  }
  // A result goes beside its layer, possibly inside a selected frame around it, which would then
  // export with the result in it: one or the other.
  for (const node of nodes) {
    const ancestors = new Set<BaseNode>();
    for (let n = node.parent; n; n = n.parent) ancestors.add(n);
    const outer = nodes.find((o) => o !== node && ancestors.has(o));
    if (outer) {
      return {
        ok: false,
        reason: "multiple",
        hint: `“${node.name}” is inside “${outer.name}”, which is selected too. Select one or the other.`,
      };
    }
  }
  const ordered = readingOrder(nodes as SizedNode[], (n) => boxes.get(n)!);
  return { ok: true, layers: ordered.map(layerInfo) };
}

/** The one selected layer (to pick as a style, mask or focus), or an error whose message says why. */
export function requireSingleSelection(): SizedNode {
  const nodes = figma.currentPage.selection;
  if (nodes.length > 1) throw new Error(`${nodes.length} layers are selected. Select just one.`);
  const sel = describeSelection(nodes);
  if (!sel.ok) throw new Error(sel.hint);
  return nodes[0] as SizedNode;
}

export async function requireNode(id: string, role: string): Promise<SizedNode> {
  const node = await figma.getNodeByIdAsync(id);
  if (!node || !isSized(node) || node.removed) {
    throw new Error(`The ${role} layer is gone (deleted or on another file). Pick it again.`);
  }
  return node;
}
