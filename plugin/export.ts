// Export layers as PNG at the working resolution the engines need.
import type { PluginMessageOf, UiMessageOf } from "../shared/plugin-messages";
import { type Box, exportBox, overlaps } from "./geometry";

/** A mask or focus export's longest side is at most this many times the working size. */
const MASK_SIDE = 4;
import { layerInfo, requireNode, requireSingleSelection, type SizedNode } from "./selection";

/**
 * PNG of the node's rendered box with its longest side `longest` px. Figma exports the render
 * bounds (effects, strokes, rotation), so the constraint is chosen from that box, not width/height.
 */
export function exportLongest(node: SizedNode, box: Box, longest: number): Promise<Uint8Array> {
  const wide = box.width >= box.height;
  return node.exportAsync({
    format: "PNG",
    constraint: { type: wide ? "WIDTH" : "HEIGHT", value: Math.max(1, Math.round(longest)) },
  });
}

export async function prepareJob(msg: UiMessageOf<"prepare-job">): Promise<PluginMessageOf<"job-images">> {
  const source = msg.sourceId ? await requireNode(msg.sourceId, "source") : requireSingleSelection();
  const box = exportBox(source);
  const content = await exportLongest(source, box, msg.workSize);
  const styles = [];
  for (const id of msg.styleLayerIds) {
    const layer = await requireNode(id, "style");
    if (layer.id === source.id) throw new Error("The style layer is the layer being stylized. Pick a different style.");
    styles.push({ layer: layerInfo(layer), png: await exportLongest(layer, exportBox(layer), msg.workSize) });
  }
  let mask: PluginMessageOf<"job-images">["mask"];
  if (msg.maskLayerId) {
    const layer = await requireNode(msg.maskLayerId, "region or focus");
    const m = exportBox(layer);
    if (!overlaps(m, box)) {
      throw new Error(
        `“${layer.name}” does not overlap “${source.name}”, so it would change nothing. Pick a layer over it.`,
      );
    }
    // At the content export's pixels per unit (a size constraint, not SCALE, which Figma caps), but
    // never more than MASK_SIDE × the working size: Figma cannot export just the overlapping part,
    // and a large frame as the focus of a small icon would otherwise export at tens of thousands
    // of pixels. The UI scales it into place by its box anyway.
    const scale = msg.workSize / Math.max(box.width, box.height);
    const longest = Math.min(Math.max(m.width, m.height) * scale, MASK_SIDE * msg.workSize);
    const png = await exportLongest(layer, m, longest);
    mask = { png, x: m.x - box.x, y: m.y - box.y, width: m.width, height: m.height };
  }
  return { type: "job-images", requestId: msg.requestId, source: layerInfo(source), content, styles, mask };
}
