// Graph 2: the Gatys loss AND its analytic gradient with respect to the image, with dynamic
// height/width. The backward pass is written out by hand (ONNX has no autodiff at inference):
// conv → conv with the transposed, flipped kernel; ReLU → keep where the output is > 0;
// max pool → scatter to the arg-max (MaxUnpool with the forward's indices); avg pool → nearest
// upsample × 1/4. The terms are Gatys's, each divided by the size of what it compares so that a
// weight means the same for any picture, any size and any layer: content = Σ(F−P)²/ΣP² at relu4_2;
// style = Σ_l s_l·Σ(G−A)² with G = F·Fᵀ/(C·H·W) (masked: F·(F∘m)ᵀ/(C·Σm)) and s_l from
// styleLayerScales; tv = ½·Σ(Δx² + Δy²)/(3·H·W) on the preprocessed image. (Unnormalised,
// relu4_1's Gram outweighed relu1_1's 2000:1, and the balance shifted with size.)
import { transposeFlip } from "../../../shared/style/vgg";
import type { ConvWeights } from "../vgg-weights";
import { GraphBuilder } from "./onnx-builder";
import { buildForward, CONTENT_LAYER, gram, type Pooling, STYLE_LAYERS } from "./vgg";

export { STYLE_LAYER_WEIGHTS, styleLayerScales } from "../../../shared/style/loss-scales";

export interface LossGraphSpec {
  pooling: Pooling;
  /** One entry per style term: whether it comes with a region mask. */
  masked: boolean[];
}

/** Names of the loss graph's inputs and outputs, shared with the session wrapper. */
export const LOSS_IO = {
  image: "image",
  contentTarget: "content_target",
  contentWeight: "content_weight",
  tvWeight: "tv_weight",
  styleWeight: (k: number) => `style_weight${k}`,
  styleScale: (k: number, layer: number) => `style_scale${k}_${layer}`,
  gram: (k: number, layer: number) => `gram${k}_${layer}`,
  mask: (k: number) => `mask${k}`,
  loss: "loss",
  content: "content",
  style: "style",
  tv: "tv",
  styleTerm: (k: number) => `style${k}`,
  grad: "grad",
};

export function buildLossGraph(convs: ConvWeights[], spec: LossGraphSpec): Uint8Array {
  const g = new GraphBuilder("stylize_loss_grad");
  const x = g.input(LOSS_IO.image, [1, 3, "h", "w"]);
  const fwd = buildForward(g, x, convs, spec.pooling, true);
  /** Gradient contributions w.r.t. each ReLU output, summed before the backward walk. */
  const inject = new Map<string, string[]>();
  const addGrad = (layer: string, v: string) => inject.set(layer, [...(inject.get(layer) ?? []), v]);

  // Content: w · Σ(F − P)²/ΣP²; d/dF = 2w(F − P)/ΣP².
  const F = fwd.relu.get(CONTENT_LAYER)!;
  const P = g.input(LOSS_IO.contentTarget, [1, fwd.channels.get(CONTENT_LAYER)!, "h8", "w8"]);
  const wc = g.input(LOSS_IO.contentWeight, []);
  const diff = g.op("Sub", [F, P]);
  const pNorm = sumOfSquares(g, P);
  const contentLoss = g.op("Mul", [wc, g.op("Div", [sumOfSquares(g, diff), pNorm])]);
  addGrad(CONTENT_LAYER, g.op("Mul", [diff, g.op("Div", [g.op("Mul", [wc, g.scalar(2)]), pNorm])]));

  // Style: per term k (one Gram target per layer, optional mask) w_k · Σ_l s_l·Σ(G − A)².
  const masks = spec.masked.map((m, k) => (m ? downsampledMasks(g, g.input(LOSS_IO.mask(k), [1, 1, "h", "w"])) : null));
  const styleTerms: string[] = [];
  spec.masked.forEach((_, k) => {
    const ws = g.input(LOSS_IO.styleWeight(k), []);
    const layerLosses: string[] = [];
    STYLE_LAYERS.forEach((layer, l) => {
      const c = fwd.channels.get(layer)!;
      const f = fwd.relu.get(layer)!;
      const { G, mm, norm } = gram(g, f, c, masks[k]?.[l]);
      const A = g.input(LOSS_IO.gram(k, l), [c, c]);
      const d = g.op("Sub", [G, A]);
      const scale = g.input(LOSS_IO.styleScale(k, l), []);
      layerLosses.push(g.op("Mul", [sumOfSquares(g, d), scale]));
      // loss = ws·s·Σd² → dG = 2·ws·s·d; G symmetric → dF = 2·dG·(F∘m)/(c·S).
      const coef = g.op("Div", [g.op("Mul", [g.op("Mul", [ws, scale]), g.scalar(4)]), norm]);
      const dm = g.op("MatMul", [g.op("Mul", [d, coef]), mm]);
      addGrad(layer, g.op("Reshape", [dm, g.op("Shape", [f])]));
    });
    const sum = layerLosses.reduce((a, b) => g.op("Add", [a, b]));
    styleTerms.push(g.output(g.op("Mul", [ws, sum]), LOSS_IO.styleTerm(k), []));
  });
  const styleLoss = styleTerms.length ? styleTerms.reduce((a, b) => g.op("Add", [a, b])) : g.scalar(0);

  // Total variation on the image: ½·w·Σ(Δ²)/n → gradient (w/n)·(Δ pushed back with opposite signs).
  const wt = g.input(LOSS_IO.tvWeight, []);
  const { loss: tvRaw, grad: tvGrad } = totalVariation(g, x);
  const tvPerValue = g.op("Div", [wt, g.op("Cast", [g.op("Size", [x])], { to: 1 })]);
  const tvLoss = g.op("Mul", [tvPerValue, tvRaw]);

  const grad = g.op("Add", [backward(g, fwd.steps, inject), g.op("Mul", [tvGrad, tvPerValue])]);
  const total = g.op("Add", [g.op("Add", [contentLoss, styleLoss]), tvLoss]);
  g.output(total, LOSS_IO.loss, []);
  g.output(contentLoss, LOSS_IO.content, []);
  g.output(styleLoss, LOSS_IO.style, []);
  g.output(tvLoss, LOSS_IO.tv, []);
  g.output(grad, LOSS_IO.grad, [1, 3, "h", "w"]);
  return g.encode();
}

/** Σv², kept off zero so that a target without features gives a finite loss. */
function sumOfSquares(g: GraphBuilder, v: string): string {
  return g.op("Max", [g.op("ReduceSum", [g.op("Mul", [v, v])], { keepdims: 0 }), g.scalar(1e-8)]);
}

/** The mask at each style layer's resolution (2x2 average per pooling, like the features). */
function downsampledMasks(g: GraphBuilder, mask: string): string[] {
  const out = [mask];
  for (let i = 1; i < STYLE_LAYERS.length; i++)
    out.push(g.op("AveragePool", [out[i - 1]], { kernel_shape: [2, 2], strides: [2, 2] }));
  return out;
}

function totalVariation(g: GraphBuilder, x: string) {
  const big = 1 << 30;
  const half = g.scalar(0.5);
  const parts = [2, 3].map((axis) => {
    const ax = g.ints("axis", [axis]);
    const hi = g.op("Slice", [x, g.ints("s", [1]), g.ints("e", [big]), ax]);
    const lo = g.op("Slice", [x, g.ints("s", [0]), g.ints("e", [-1]), ax]);
    const d = g.op("Sub", [hi, lo]);
    const loss = g.op("ReduceSum", [g.op("Mul", [d, d])], { keepdims: 0 });
    // d/dx of ½Σd²: +d at the upper neighbour, −d at the lower one.
    const padBefore = [0, 0, 0, 0, 0, 0, 0, 0];
    const padAfter = [0, 0, 0, 0, 0, 0, 0, 0];
    padBefore[axis] = 1;
    padAfter[axis + 4] = 1;
    const grad = g.op("Sub", [g.op("Pad", [d, g.ints("p", padBefore)]), g.op("Pad", [d, g.ints("p", padAfter)])]);
    return { loss, grad };
  });
  return {
    loss: g.op("Mul", [g.op("Add", [parts[0].loss, parts[1].loss]), half]),
    grad: g.op("Add", [parts[0].grad, parts[1].grad]),
  };
}

/** Walk the forward steps in reverse, turning gradients at ReLU outputs into one w.r.t. the image. */
function backward(g: GraphBuilder, steps: ReturnType<typeof buildForward>["steps"], inject: Map<string, string[]>) {
  let grad: string | undefined;
  const zero = g.scalar(0);
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i];
    if (s.kind === "conv") {
      for (const v of inject.get(s.output) ?? []) grad = grad ? g.op("Add", [grad, v]) : v;
      if (!grad) continue;
      grad = g.op("Where", [g.op("Greater", [s.output, zero]), grad, zero]);
      const wt = g.floats(`${s.conv.name}_wT`, [s.conv.inC, s.conv.outC, 3, 3], transposeFlip(s.conv));
      grad = g.op("Conv", [grad, wt], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    } else if (grad) {
      if (s.indices) {
        grad = g.op("MaxUnpool", [grad, s.indices, g.op("Shape", [s.input])], {
          kernel_shape: [2, 2],
          strides: [2, 2],
        });
      } else {
        const up = g.op("Resize", [grad, "", g.floats("scales", [4], [1, 1, 2, 2])], {
          mode: "nearest",
          coordinate_transformation_mode: "asymmetric",
          nearest_mode: "floor",
        });
        grad = g.op("Mul", [up, g.scalar(0.25)]);
      }
    }
  }
  if (!grad) throw new Error("loss graph has no gradient path");
  return grad;
}
