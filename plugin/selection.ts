// What the designer has selected, in the terms the UI needs.
import type { LayerInfo, Selection } from "../shared/plugin-messages";
import { exportBox } from "./geometry";

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
  if (!isSized(node)) {
    return { ok: false, reason: "none", hint: `“${node.name}” has no area to export. Select a layer with a size.` };
  }
  try {
    exportBox(node);
  } catch (err) {
    return { ok: false, reason: "none", hint: (err as Error).message };
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
