// Export layers as PNG at the working resolution the engines need.
import type { PluginMessageOf, UiMessageOf } from "../shared/plugin-messages";
import { layerInfo, requireNode, requireSingleSelection, type SizedNode } from "./selection";

/** PNG whose longest side is `longest` px (aspect ratio kept by Figma). */
export function exportLongest(node: SizedNode, longest: number): Promise<Uint8Array> {
  const wide = node.width >= node.height;
  return node.exportAsync({
    format: "PNG",
    constraint: { type: wide ? "WIDTH" : "HEIGHT", value: Math.round(longest) },
  });
}

/** Where `node` lies relative to `origin`, in canvas units (works across parents). */
function boxRelativeTo(node: SizedNode, origin: SizedNode) {
  const a = node.absoluteBoundingBox;
  const o = origin.absoluteBoundingBox;
  if (!a || !o) throw new Error(`“${node.name}” is not visible on the canvas, so it cannot be used as a mask.`);
  return { x: a.x - o.x, y: a.y - o.y, width: a.width, height: a.height };
}

export async function prepareJob(msg: UiMessageOf<"prepare-job">): Promise<PluginMessageOf<"job-images">> {
  const source = requireSingleSelection();
  const content = await exportLongest(source, msg.workSize);
  const styles = [];
  for (const id of msg.styleLayerIds) {
    const layer = await requireNode(id, "style");
    if (layer.id === source.id) throw new Error("The style layer is the layer being stylized. Pick a different style.");
    styles.push({ layer: layerInfo(layer), png: await exportLongest(layer, msg.workSize) });
  }
  let mask: PluginMessageOf<"job-images">["mask"];
  if (msg.maskLayerId) {
    const layer = await requireNode(msg.maskLayerId, "mask");
    const box = boxRelativeTo(layer, source);
    // about the content export's pixels-per-unit (a size constraint, not SCALE, which Figma caps);
    // the UI scales it into place by its box anyway
    const scale = msg.workSize / Math.max(source.width, source.height);
    const png = await exportLongest(layer, Math.max(1, Math.max(layer.width, layer.height) * scale));
    mask = { png, ...box };
  }
  return { type: "job-images", requestId: msg.requestId, source: layerInfo(source), content, styles, mask };
}
