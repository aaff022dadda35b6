// All-or-nothing document edits: build hidden, reveal at the end as one undo step, or remove it all.
import type { JobSettings } from "../shared/plugin-messages";
import { type Box, exportBox } from "./geometry";
import { pageOf, placeBeside } from "./placement";
import { tagResult } from "./settings";

type Result = SceneNode & { x: number; y: number; width: number; height: number; visible: boolean };

/**
 * `build` creates the result (hidden, so nothing shows half-made) the size of the source's rendered
 * box. On success it is placed beside the source, tagged for "Stylize again", shown, and committed
 * as one undo step. On failure, or if the designer closes the plugin midway (Figma then stops our
 * timers, so the build would never finish), everything it created is removed.
 */
export async function commitResult<T extends Result>(
  source: SceneNode,
  settings: JobSettings,
  build: (track: <N extends SceneNode>(node: N) => N, box: Box) => Promise<T>,
): Promise<T> {
  const box = exportBox(source);
  await pageOf(source).loadAsync(); // dynamic-page: the designer may have switched pages mid-job
  const created: SceneNode[] = [];
  const track = <N extends SceneNode>(node: N): N => {
    created.push(node);
    return node;
  };
  const removeCreated = () => {
    for (const node of created.splice(0).reverse()) {
      if (!node.removed) node.remove();
    }
  };
  figma.on("close", removeCreated);
  try {
    const result = await build(track, box);
    placeBeside(result, source, box);
    tagResult(result, source, settings);
    result.visible = true;
    figma.commitUndo();
    return result;
  } catch (err) {
    removeCreated();
    throw err;
  } finally {
    figma.off("close", removeCreated);
  }
}
