// What the designer has selected, in the terms the UI needs.
import type { LayerInfo, Selection } from "../shared/plugin-messages";

export type SizedNode = SceneNode & { width: number; height: number; exportAsync: ExportMixin["exportAsync"] };

export function isSized(node: BaseNode): node is SizedNode {
  return "width" in node && "height" in node && "exportAsync" in node;
}

export function layerInfo(node: SizedNode): LayerInfo {
  return { id: node.id, name: node.name || "Untitled", type: node.type, width: node.width, height: node.height };
}

export function describeSelection(nodes: readonly SceneNode[]): Selection {
  if (nodes.length === 0) {
    return { ok: false, reason: "none", hint: "Select one layer (a frame, group or image) to stylize." };
  }
  if (nodes.length > 1) {
    return {
      ok: false,
      reason: "multiple",
      hint: `${nodes.length} layers are selected. Select just one — group them first (⌘G / Ctrl+G) to use them together.`,
    };
  }
  const node = nodes[0];
  if (!isSized(node) || node.width <= 0 || node.height <= 0) {
    return { ok: false, reason: "none", hint: `“${node.name}” has no area to export. Select a layer with a size.` };
  }
  return { ok: true, layer: layerInfo(node) };
}

/** The one selected layer, or an error whose message is the hint. */
export function requireSingleSelection(): SizedNode {
  const nodes = figma.currentPage.selection;
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
