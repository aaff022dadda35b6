// A style result: a rectangle the size of the source, filled with the styled image.
import type { UiMessageOf } from "../shared/plugin-messages";
import { commitResult } from "./commit";
import { requireNode } from "./selection";

export async function insertStyle(msg: UiMessageOf<"insert-style">): Promise<RectangleNode> {
  const source = await requireNode(msg.sourceId, "source");
  if (msg.png.length === 0) throw new Error("The companion sent an empty image; nothing was inserted.");
  return commitResult(source, msg.settings, async (track, box) => {
    const image = figma.createImage(msg.png);
    const rect = track(figma.createRectangle());
    rect.visible = false;
    rect.name = `${source.name} — styled as ${msg.styleName}`;
    rect.resize(box.width, box.height); // the styled image is the export of this box
    rect.fills = [{ type: "IMAGE", scaleMode: "FILL", imageHash: image.hash }];
    return rect;
  });
}
