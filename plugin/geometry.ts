// The one box a source occupies on the canvas: what Figma exports (shadows, outside strokes,
// overflowing children, the rotated outline), so the export, its scale, the result's size and
// position and a mask's offset all agree.
export type Box = { x: number; y: number; width: number; height: number };

/** The source's rendered box in absolute (page) coordinates; a clear error if nothing renders. */
export function exportBox(node: SceneNode): Box {
  if (!node.visible) throw new Error(`“${node.name}” is hidden. Show it, or select a visible layer.`);
  const box = "absoluteRenderBounds" in node ? node.absoluteRenderBounds : null;
  if (!box) {
    throw new Error(`“${node.name}” does not show on the canvas (it or a parent is hidden). Show it first.`);
  }
  if (!(box.width > 0 && box.height > 0)) {
    throw new Error(`“${node.name}” has no area to export. Select a layer with a size.`);
  }
  return { x: box.x, y: box.y, width: box.width, height: box.height };
}

/** Whether `inner` lies inside `outer`. */
export const contains = (outer: Box, inner: Box) =>
  inner.x >= outer.x &&
  inner.y >= outer.y &&
  inner.x + inner.width <= outer.x + outer.width &&
  inner.y + inner.height <= outer.y + outer.height;

/** Whether two boxes share some area. */
export const overlaps = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/**
 * Reading order, as a designer scans a row of avatars or a grid of product shots: rows from the
 * top, each left to right. A box joins the current row when its top is above the middle of the
 * row's first box, so slightly uneven rows still read as rows.
 */
export function readingOrder<T>(items: readonly T[], boxOf: (item: T) => Box): T[] {
  const byTop = [...items].sort((a, b) => boxOf(a).y - boxOf(b).y || boxOf(a).x - boxOf(b).x);
  const rows: T[][] = [];
  for (const item of byTop) {
    const row = rows[rows.length - 1];
    const first = row && boxOf(row[0]);
    if (first && boxOf(item).y < first.y + first.height / 2) row.push(item);
    else rows.push([item]);
  }
  return rows.flatMap((row) => row.sort((a, b) => boxOf(a).x - boxOf(b).x));
}
