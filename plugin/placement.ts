// Where a result goes: beside its source, in the nearest container that can take a new layer
// without changing the designer's layers. Positions come from absolute transforms, so sources
// deep in instances, rotated groups or nested frames get their result right next to them.
import { toLocal } from "../shared/shape-geometry";
import { type Box, contains } from "./geometry";

export const GAP = 40;

type Container = BaseNode & ChildrenMixin;
/** Adding a child inside these changes the design itself (instances refuse it outright). */
const LOCKED = new Set<NodeType>(["INSTANCE", "COMPONENT", "COMPONENT_SET"]);

/** Frames without auto-layout (which would reflow the layer in), and sections, if the result shows there. */
function canHold(node: BaseNode, target: Box): boolean {
  if (node.type === "FRAME") {
    if (node.layoutMode !== "NONE") return false;
    return !node.clipsContent || contains(node.absoluteBoundingBox ?? target, target);
  }
  if (node.type === "SECTION") return !!node.absoluteBoundingBox && contains(node.absoluteBoundingBox, target);
  return false; // groups resize to their content, boolean operations change shape
}

export function pageOf(node: BaseNode): PageNode {
  let n: BaseNode | null = node;
  while (n && n.type !== "PAGE") n = n.parent;
  if (!n) throw new Error(`“${node.name}” is not on a page any more.`);
  return n as PageNode;
}

/** The nearest safe container above `source`, and the child of it that holds the source. */
function safeContainer(source: SceneNode, target: Box): { parent: Container; holder: BaseNode } {
  const chain: BaseNode[] = [source];
  for (let n = source.parent; n && n.type !== "DOCUMENT"; n = n.parent) chain.push(n);
  // nothing inside an instance or a main component is safe, however deep
  let lowest = 1;
  chain.forEach((n, i) => {
    if (LOCKED.has(n.type)) lowest = Math.max(lowest, i + 1);
  });
  for (let i = lowest; i < chain.length; i++) {
    if (chain[i].type === "PAGE" || canHold(chain[i], target)) {
      return { parent: chain[i] as Container, holder: chain[i - 1] };
    }
  }
  throw new Error(`“${source.name}” is not on a page any more.`);
}

/** Put `node` (not yet placed) beside the source's rendered box, above it in the layer list. */
export function placeBeside(
  node: SceneNode & { x: number; y: number; width: number; height: number },
  source: SceneNode,
  box: Box,
): void {
  const target = { x: box.x + box.width + GAP, y: box.y, width: node.width, height: node.height };
  const { parent, holder } = safeContainer(source, target);
  parent.insertChild(parent.children.indexOf(holder as SceneNode) + 1, node);
  const [x, y] =
    parent.type === "PAGE"
      ? [target.x, target.y]
      : toLocal((parent as unknown as FrameNode).absoluteTransform, target.x, target.y);
  node.x = x;
  node.y = y;
}
