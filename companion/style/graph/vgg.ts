// The VGG-19 prefix the Gatys losses need (conv1_1 … conv5_1) written into a GraphBuilder, forward
// only. Layer names follow the paper (relu4_2); weights follow Keras (block4_conv2).
import type { ConvWeights } from "../vgg-weights";
import { type Pooling, poolsAfter, reluName } from "../../../shared/style/vgg";
import type { GraphBuilder } from "./onnx-builder";

export {
  CONTENT_LAYER,
  CONTENT_STRIDE,
  type Pooling,
  reluName,
  SIZE_MULTIPLE,
  STYLE_LAYERS,
} from "../../../shared/style/vgg";

const CONV_ORDER = [
  "block1_conv1",
  "block1_conv2",
  "block2_conv1",
  "block2_conv2",
  "block3_conv1",
  "block3_conv2",
  "block3_conv3",
  "block3_conv4",
  "block4_conv1",
  "block4_conv2",
  "block4_conv3",
  "block4_conv4",
  "block5_conv1",
];

/** One step of the forward pass, kept so the gradient graph can walk it backwards. */
export type Step =
  | { kind: "conv"; conv: ConvWeights; input: string; output: string }
  | { kind: "pool"; input: string; output: string; indices?: string };

export interface Forward {
  /** Value name of each ReLU output, by paper name. */
  relu: Map<string, string>;
  /** Channels of each ReLU output (the weights decide: tests use narrower networks). */
  channels: Map<string, number>;
  steps: Step[];
}

/** Check the weights describe the expected 13 convolutions. */
export function checkConvs(convs: ConvWeights[]): void {
  if (convs.length !== CONV_ORDER.length) throw new Error(`expected ${CONV_ORDER.length} VGG convolutions`);
  convs.forEach((c, i) => {
    if (c.name !== CONV_ORDER[i]) throw new Error(`VGG layer ${i} is ${c.name}, expected ${CONV_ORDER[i]}`);
    if (c.kernel.length !== c.outC * c.inC * 9 || c.bias.length !== c.outC)
      throw new Error(`VGG layer ${c.name} has the wrong shape`);
  });
}

/**
 * Conv+ReLU layers with a 2x2 pooling after each block's last conv, up to relu5_1.
 * `withIndices` makes max pools also output arg-max indices for the backward pass.
 */
export function buildForward(g: GraphBuilder, x: string, convs: ConvWeights[], pooling: Pooling, withIndices: boolean) {
  checkConvs(convs);
  const relu = new Map<string, string>();
  const channels = new Map<string, number>();
  const steps: Step[] = [];
  let h = x;
  convs.forEach((conv, i) => {
    const w = g.floats(`${conv.name}_w`, [conv.outC, conv.inC, 3, 3], conv.kernel);
    const b = g.floats(`${conv.name}_b`, [conv.outC], conv.bias);
    const z = g.op("Conv", [h, w, b], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    const out = g.op("Relu", [z], {}, reluName(conv.name));
    steps.push({ kind: "conv", conv, input: h, output: out });
    relu.set(reluName(conv.name), out);
    channels.set(reluName(conv.name), conv.outC);
    h = out;
    if (poolsAfter(convs, i)) {
      const attrs = { kernel_shape: [2, 2], strides: [2, 2] };
      if (pooling === "avg") {
        h = g.op("AveragePool", [h], attrs);
        steps.push({ kind: "pool", input: out, output: h });
      } else if (withIndices) {
        h = g.op("MaxPool", [h], attrs, undefined, 2);
        steps.push({ kind: "pool", input: out, output: h, indices: g.lastOutputs[1] });
      } else {
        h = g.op("MaxPool", [h], attrs);
        steps.push({ kind: "pool", input: out, output: h });
      }
    }
  });
  return { relu, channels, steps } satisfies Forward;
}

/**
 * Gram matrix F·(F∘m)ᵀ / (C·S) of a [1,C,h,w] activation, S = number of pixels (or the mask's
 * sum). Returns the Gram and the reshaped [C, h·w] operands the gradient reuses.
 */
export function gram(g: GraphBuilder, f: string, channels: number, mask?: string) {
  const shape = g.ints("cn", [channels, -1]);
  const m = g.op("Reshape", [f, shape]);
  let mm = m;
  let area: string;
  if (mask) {
    mm = g.op("Reshape", [g.op("Mul", [f, mask]), shape]);
    // max(·, tiny) keeps an empty region finite; the engine refuses empty masks anyway.
    area = g.op("Max", [g.op("ReduceSum", [mask], { keepdims: 0 }), g.scalar(1e-6)]);
  } else {
    area = g.op("Cast", [g.op("Size", [m])], { to: 1 });
    area = g.op("Div", [area, g.scalar(channels)]);
  }
  const norm = g.op("Mul", [area, g.scalar(channels)]);
  const G = g.op("Div", [g.op("MatMul", [m, g.op("Transpose", [mm], { perm: [1, 0] })]), norm]);
  return { G, m, mm, norm };
}
