// Graph 1: an image's style Grams (relu1_1…relu5_1) and content features (relu4_2), with dynamic
// height/width. Used once per job and scale for the targets.
import type { ConvWeights } from "../vgg-weights";
import { GraphBuilder } from "./onnx-builder";
import { buildForward, CONTENT_LAYER, gram, type Pooling, STYLE_LAYERS } from "./vgg";

export const FEATURE_OUTPUTS = { content: "content", gram: (i: number) => `gram${i}` };

export function buildFeaturesGraph(convs: ConvWeights[], pooling: Pooling): Uint8Array {
  const g = new GraphBuilder("stylize_features");
  const x = g.input("image", [1, 3, "h", "w"]);
  const fwd = buildForward(g, x, convs, pooling, false);
  g.output(fwd.relu.get(CONTENT_LAYER)!, FEATURE_OUTPUTS.content, [1, fwd.channels.get(CONTENT_LAYER)!, "h8", "w8"]);
  STYLE_LAYERS.forEach((name, i) => {
    const c = fwd.channels.get(name)!;
    g.output(gram(g, fwd.relu.get(name)!, c).G, FEATURE_OUTPUTS.gram(i), [c, c]);
  });
  return g.encode();
}
