// The VGG-19 prefix neural style transfer reads, and what a loss evaluation takes and gives: pure
// definitions both engines share (ONNX Runtime in companion/style, WebGPU in ./webgpu).

export type Pooling = "max" | "avg";

/** Style layers (Gatys et al.) and the content layer. */
export const STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"] as const;
export const CONTENT_LAYER = "relu4_2";
/** relu4_2 works at 1/8 of the image's resolution. */
export const CONTENT_STRIDE = 8;
/** Images must have sides divisible by this (four 2x2 poolings before conv5_1). */
export const SIZE_MULTIPLE = 16;

export interface ConvWeights {
  /** Keras layer name, "block1_conv1" … "block5_conv1". */
  name: string;
  inC: number;
  outC: number;
  /** OIHW (ONNX Conv layout), 3x3 kernels. */
  kernel: Float32Array;
  bias: Float32Array;
}

/** Both engines' inputs: sides a multiple of SIZE_MULTIPLE, at least 32 (2 pixels at relu5_1). */
export function checkStyleSize(h: number, w: number): void {
  if (h % SIZE_MULTIPLE || w % SIZE_MULTIPLE || h < 32 || w < 32)
    throw new Error(`style graphs need sides that are multiples of ${SIZE_MULTIPLE} and at least 32 (got ${w}x${h})`);
}

/** "block4_conv2" → "relu4_2". */
export function reluName(convName: string): string {
  const m = /^block(\d)_conv(\d)$/.exec(convName);
  if (!m) throw new Error(`unexpected VGG layer name ${convName}`);
  return `relu${m[1]}_${m[2]}`;
}

/** Whether a 2x2 pooling follows conv i (the last conv of a block, except the network's last). */
export function poolsAfter(convs: readonly { name: string }[], i: number): boolean {
  const next = convs[i + 1];
  return next !== undefined && next.name.slice(0, 6) !== convs[i].name.slice(0, 6);
}

/** What the loss compares against, at the current scale. */
export interface Targets {
  /** relu4_2 of the content image, [C, h/8, w/8]. */
  content: Float32Array;
  /** Per style term, the 5 Gram matrices (relu1_1 … relu5_1). */
  grams: Float32Array[][];
  /** Per style term, its mask [h, w] (0..1) or undefined. */
  masks: (Float32Array | undefined)[];
  /** Per style term, each layer's factor of Σ(G − A)² (styleLayerScales). */
  styleScales: number[][];
}

export interface LossWeights {
  content: number;
  tv: number;
  /** Per style term. */
  style: number[];
}

export interface Evaluation {
  loss: number;
  terms: Record<string, number>;
  grad: Float32Array;
}

export interface Features {
  content: Float32Array;
  grams: Float32Array[];
}

/** The mask at each style layer's resolution: a 2x2 average per pooling, like the features. */
export function downsampledMasks(mask: Float32Array, h: number, w: number): Float32Array[] {
  const out = [mask];
  for (let l = 1; l < STYLE_LAYERS.length; l++) {
    const src = out[l - 1];
    const sw = w >> (l - 1);
    const oh = h >> l;
    const ow = w >> l;
    const m = new Float32Array(oh * ow);
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++) {
        const i = 2 * y * sw + 2 * x;
        m[y * ow + x] = (src[i] + src[i + 1] + src[i + sw] + src[i + sw + 1]) / 4;
      }
    out.push(m);
  }
  return out;
}

/** Kernel for the input gradient of a 3x3 'same' conv: W'[i,o,y,x] = W[o,i,2−y,2−x]. */
export function transposeFlip(c: ConvWeights): Float32Array {
  const out = new Float32Array(c.kernel.length);
  for (let o = 0; o < c.outC; o++)
    for (let i = 0; i < c.inC; i++)
      for (let k = 0; k < 9; k++) out[(i * c.outC + o) * 9 + (8 - k)] = c.kernel[(o * c.inC + i) * 9 + k];
  return out;
}
