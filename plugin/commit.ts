// All-or-nothing document edits: build hidden, reveal at the end as one undo step, or remove it all.
import { tagResult } from "./settings";
import type { Settings } from "../shared/plugin-messages";
import { placeBeside } from "./placement";

type Result = SceneNode & { x: number; y: number; visible: boolean };
type Source = SceneNode & { x: number; y: number; width: number };

/**
 * `build` creates the result (hidden, so nothing shows half-made). On success it is placed beside
 * the source, tagged for "Stylize again", shown, and committed as one undo step. On failure
 * everything it created is removed and the error is rethrown.
 */
export async function commitResult<T extends Result>(
  source: Source,
  settings: Settings,
  build: (track: <N extends SceneNode>(node: N) => N) => Promise<T>,
): Promise<T> {
  const created: SceneNode[] = [];
  const track = <N extends SceneNode>(node: N): N => {
    created.push(node);
    return node;
  };
  try {
    const result = await build(track);
    placeBeside(result, source);
    tagResult(result, source, settings);
    result.visible = true;
    figma.commitUndo();
    return result;
  } catch (err) {
    for (const node of created.reverse()) {
      if (!node.removed) node.remove();
    }
    throw err;
  }
}
