// A primitives result: a clipping frame with a background rectangle and one native node per shape;
// for a layer with transparency (result.clip), an alpha mask of the layer under them all.
import type { UiMessageOf } from "../shared/plugin-messages";
import {
  type Fill,
  isGradient,
  type NodeSpec,
  type Paint,
  primitivesFrameName,
  type Rgb,
  scaleBetween,
  shapeName,
  shapeToNode,
  toPaint,
} from "../shared/shape-geometry";
import { bindPaletteEntry, localPalette, paletteBindings } from "./colour-styles";
import { commitResult } from "./commit";
import { exportLongest } from "./export";
import type { Box } from "./geometry";
import { requireNode, type SizedNode } from "./selection";

/** Nodes created per tick: big enough to be quick, small enough that Figma stays responsive. */
export const BATCH = 200;

const solid = (p: Paint): SolidPaint => ({ type: "SOLID", color: p.color, opacity: p.opacity });

/** A flat colour, or a native two-stop linear gradient (stops opaque, the shape's opacity on the paint). */
function paintOf(f: Fill): SolidPaint | GradientPaint {
  if (!isGradient(f)) return solid(f);
  const stop = (position: number, c: Rgb): ColorStop => ({
    position,
    color: { ...c, a: 1 },
  });
  return {
    type: "GRADIENT_LINEAR",
    gradientTransform: f.gradient,
    gradientStops: [stop(0, f.stops[0]), stop(1, f.stops[1])],
    opacity: f.opacity,
  };
}

/** Create the node inside `parent` first, so its geometry is set in the frame's coordinates. */
function createNode(spec: NodeSpec, parent: FrameNode, track: <N extends SceneNode>(n: N) => N): SceneNode {
  if (spec.kind === "vector") {
    const node = track(figma.createVector());
    parent.appendChild(node);
    node.vectorPaths = [{ windingRule: spec.fill ? "NONZERO" : "NONE", data: spec.path }];
    node.x = spec.x;
    node.y = spec.y;
    node.fills = spec.fill ? [paintOf(spec.fill)] : [];
    if (spec.stroke) {
      node.strokes = [paintOf(spec.stroke.paint)];
      node.strokeWeight = spec.stroke.weight;
      node.strokeCap = "ROUND";
      node.strokeJoin = "ROUND";
    } else {
      node.strokes = [];
    }
    return node;
  }
  const node = track(spec.kind === "ellipse" ? figma.createEllipse() : figma.createRectangle());
  parent.appendChild(node);
  node.resize(spec.width, spec.height);
  node.relativeTransform = spec.transform;
  node.fills = [paintOf(spec.paint)];
  node.strokes = [];
  return node;
}

const nextTick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** The mask image's longest side: 2× the layer for crisp edges, within Figma's 4096 px image limit. */
const maskSide = (box: Box) => Math.min(4096, Math.ceil(2 * Math.max(box.width, box.height)));

/**
 * The layer itself, exported, as an alpha mask over its box: it masks every later sibling, so the
 * result shows exactly where the layer does, soft edges included (a traced outline would be hard-edged).
 */
async function alphaMask(source: SizedNode, box: Box, track: <N extends SceneNode>(n: N) => N) {
  const png = await exportLongest(source, box, maskSide(box));
  const mask = track(figma.createRectangle());
  mask.name = "Mask";
  mask.resize(box.width, box.height);
  mask.fills = [{ type: "IMAGE", imageHash: figma.createImage(png).hash, scaleMode: "FILL" }];
  mask.maskType = "ALPHA";
  mask.isMask = true;
  return mask;
}

export async function insertPrimitives(
  msg: UiMessageOf<"insert-primitives">,
  onProgress: (done: number, total: number) => void,
): Promise<FrameNode> {
  const source = await requireNode(msg.sourceId, "source");
  const { result } = msg;
  const total = result.shapes.length;
  // With a palette, shapes whose colour is a colour style or variable of the file are bound to it.
  const palette = msg.settings.primitives.palette;
  const byHex = await paletteBindings(palette?.length ? await localPalette() : []);
  return commitResult(source, msg.settings, async (track, box) => {
    const scale = scaleBetween(result, box); // the shapes were found on the export of this box
    const frame = track(figma.createFrame());
    frame.visible = false;
    const name = msg.styleName
      ? `${source.name} — shapes in the style of ${msg.styleName}`
      : primitivesFrameName(source.name, result.shapes);
    frame.name = name + (msg.partial ? " — partial" : "");
    frame.resize(box.width, box.height);
    frame.clipsContent = true;
    frame.fills = [];
    if (result.clip === "alpha") frame.appendChild(await alphaMask(source, box, track));
    const bg = track(figma.createRectangle());
    bg.name = "Background";
    bg.resize(box.width, box.height);
    bg.fills = [solid(toPaint(result.background))];
    frame.appendChild(bg);
    for (let from = 0; from < total; from += BATCH) {
      for (let i = from; i < Math.min(total, from + BATCH); i++) {
        const node = createNode(shapeToNode(result.shapes[i], scale), frame, track);
        node.name = shapeName(result.shapes[i], i);
        if (byHex.size) await bindPaletteEntry(node, byHex);
      }
      onProgress(Math.min(total, from + BATCH), total);
      await nextTick();
    }
    return frame;
  });
}
