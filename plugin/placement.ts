// Results go beside their source, in the same parent, directly above it in the layer list.
export const GAP = 40;

type Placeable = SceneNode & { x: number; y: number; width: number };

export function placeBeside(node: SceneNode & { x: number; y: number }, source: Placeable): void {
  const parent = source.parent && source.parent.type !== "INSTANCE" ? source.parent : figma.currentPage;
  const index = parent === source.parent ? parent.children.indexOf(source) + 1 : parent.children.length;
  parent.insertChild(index, node);
  node.x = source.x + source.width + GAP;
  node.y = source.y;
}
