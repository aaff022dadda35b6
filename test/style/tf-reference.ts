// An independent implementation of the style loss with @tensorflow/tfjs autodiff (CPU backend),
// used only to check the hand-written ONNX gradient. NHWC throughout, as tfjs prefers.
import * as tf from "@tensorflow/tfjs";
import type { ConvWeights } from "../../companion/style/vgg-weights";

export interface RefSpec {
  convs: ConvWeights[];
  pooling: "max" | "avg";
  h: number;
  w: number;
  contentTarget: Float32Array; // NCHW [1, C, h/8, w/8]
  grams: Float32Array[][]; // per term, per style layer
  masks: (Float32Array | undefined)[]; // per term, [h, w]
  styleScales: number[][]; // per term, per style layer: the factor of Σ(G − A)²
  weights: { content: number; tv: number; style: number[] };
}

const STYLE = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"];
const CONTENT = "block4_conv2";

export async function tfLossAndGrad(xNchw: Float32Array, s: RefSpec) {
  await tf.setBackend("cpu");
  const kernels = s.convs.map((c) =>
    tf.tidy(() => tf.tensor4d(c.kernel, [c.outC, c.inC, 3, 3]).transpose([2, 3, 1, 0]) as tf.Tensor4D),
  );
  const biases = s.convs.map((c) => tf.tensor1d(c.bias));
  const nchwToNhwc = (d: Float32Array, c: number, h: number, w: number) =>
    tf.tensor4d(d, [1, c, h, w]).transpose([0, 2, 3, 1]) as tf.Tensor4D;
  const contentC = s.convs.find((c) => c.name === CONTENT)!.outC;
  const P = nchwToNhwc(s.contentTarget, contentC, s.h / 8, s.w / 8);
  const masks = s.masks.map((m) => (m ? tf.tensor4d(m, [1, s.h, s.w, 1]) : undefined));

  const loss = (x: tf.Tensor4D) => {
    const acts = new Map<string, tf.Tensor4D>();
    let hcur = x;
    s.convs.forEach((c, i) => {
      hcur = tf.relu(tf.add(tf.conv2d(hcur, kernels[i], 1, "same"), biases[i])) as tf.Tensor4D;
      acts.set(c.name, hcur);
      const next = s.convs[i + 1];
      if (next && next.name.slice(0, 6) !== c.name.slice(0, 6))
        hcur = s.pooling === "max" ? tf.maxPool(hcur, 2, 2, "valid") : tf.avgPool(hcur, 2, 2, "valid");
    });
    const F = acts.get(CONTENT)!;
    // Content relative to its target's size; style with the given per-layer factors; TV a mean
    // (see companion/style/graph/loss.ts).
    const content = tf.mul(s.weights.content, tf.div(tf.sum(tf.square(tf.sub(F, P))), tf.sum(tf.square(P))));
    let style: tf.Scalar = tf.scalar(0);
    s.grams.forEach((targets, k) => {
      let m: tf.Tensor4D | undefined = masks[k];
      STYLE.forEach((name, l) => {
        const f = acts.get(name)!;
        const [, hh, ww, c] = f.shape;
        if (m && l > 0) m = tf.avgPool(m, 2, 2, "valid");
        const M = f.reshape([hh * ww, c]);
        const Mm = m ? tf.mul(f, m).reshape([hh * ww, c]) : M;
        const area = m ? tf.sum(m) : tf.scalar(hh * ww);
        const G = tf.div(tf.matMul(M, Mm, true, false), tf.mul(area, c));
        const A = tf.tensor2d(targets[l], [c, c]);
        const scale = s.weights.style[k] * s.styleScales[k][l];
        style = tf.add(style, tf.mul(scale, tf.sum(tf.square(tf.sub(G, A))))) as tf.Scalar;
      });
    });
    const dx = tf.sub(x.slice([0, 0, 1, 0], [-1, -1, -1, -1]), x.slice([0, 0, 0, 0], [-1, -1, s.w - 1, -1]));
    const dy = tf.sub(x.slice([0, 1, 0, 0], [-1, -1, -1, -1]), x.slice([0, 0, 0, 0], [-1, s.h - 1, -1, -1]));
    const tv = tf.mul((s.weights.tv * 0.5) / (3 * s.h * s.w), tf.add(tf.sum(tf.square(dx)), tf.sum(tf.square(dy))));
    return tf.add(tf.add(content, style), tv) as tf.Scalar;
  };

  const x = nchwToNhwc(xNchw, 3, s.h, s.w);
  const { value, grad } = tf.valueAndGrad(loss)(x);
  const gNchw = (await grad.transpose([0, 3, 1, 2]).data()) as Float32Array;
  const lossValue = (await value.data())[0];
  tf.dispose([x, grad, value, P, ...kernels, ...biases, ...masks.filter((m) => m !== undefined)]);
  return { loss: lossValue, grad: gNchw };
}

export function relativeError(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}
