// What the gradient tests share: a narrowed VGG-19 and reproducible random pictures.
import { narrowedConvs } from "../../companion/style/vgg-weights";

/** VGG-19's layers with channels ÷ 8: same structure, fast enough for tfjs autodiff and SwiftShader. */
export const NARROW = narrowedConvs(8);

function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 4294967296;
  };
}

/** n values in ±100, like a preprocessed image. */
export const randomImage = (n: number, seed: number) => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() - 0.5) * 200);
};

/** One loss term at a time, per style term of [plain, masked]. */
export const ONLY = {
  content: { content: 1, tv: 0, style: [0, 0] },
  style: { content: 0, tv: 0, style: [1e3, 0] },
  maskedStyle: { content: 0, tv: 0, style: [0, 1e3] },
  tv: { content: 0, tv: 1, style: [0, 0] },
};
