// The loss normalisation both engines use: each style layer's factor of Σ(G − A)², computed on the
// host from the style's and the content's Grams (see companion/style/graph/loss.ts for the losses).
import { dot } from "./optim/types";
import { STYLE_LAYERS } from "./vgg";

/**
 * Each style layer's share of the style loss. relu4_1 leads, as it did in the classic loss through
 * its raw size (2000× the others'), which is the Gatys look; every layer still counts, so colours
 * (relu1_1) and the style's large strokes (relu5_1) come through. Chosen with `npm run bench:quality`.
 */
export const STYLE_LAYER_WEIGHTS: Record<(typeof STYLE_LAYERS)[number], number> = {
  relu1_1: 1,
  relu2_1: 4,
  relu3_1: 4,
  relu4_1: 10,
  relu5_1: 1,
};

/**
 * Per style layer, the factor s_l of Σ(G − A)²: the layer's share over the size of the two Grams
 * the loss brings together, ΣA² + ΣC² (C: the content's Gram). With ΣA² alone, a low-contrast or
 * mid-grey style (colours near the network's mean: Grams 10³–10⁵× smaller) made the style weight
 * that many times stronger.
 */
export function styleLayerScales(style: Float32Array[], content: Float32Array[]): number[] {
  const total = Object.values(STYLE_LAYER_WEIGHTS).reduce((a, b) => a + b, 0);
  return STYLE_LAYERS.map((layer, l) => {
    const size = dot(style[l], style[l]) + dot(content[l], content[l]);
    return STYLE_LAYER_WEIGHTS[layer] / total / Math.max(size, 1e-30);
  });
}
