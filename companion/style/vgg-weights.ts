// VGG-19 convolution weights (block1_conv1 … block5_conv1) from the Keras "notop" HDF5 file,
// or deterministic random weights with the same shapes for tests and benchmarks.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { ConvWeights } from "../../shared/style/vgg";
import { UserError } from "../errors";
import type { Group } from "h5wasm/node";
import { datasetsUnder, float32Values, isDataset, checkHdf5, isGroup, stringsAttr, withH5File } from "./h5";
import { FETCH_HINT, KERAS_VGG19_NOTOP } from "./weights";

export type { ConvWeights };

export interface VggWeights {
  /** The 13 convolutions block1_conv1 … block5_conv1, in network order. */
  convs: ConvWeights[];
  /** Stable hex content hash (sha256 of the file, or derived from the random seed): a cache key. */
  hash: string;
  random: boolean;
}

/** A layer's name and channel counts; kernels are always 3x3. */
export interface ConvSpec {
  name: string;
  inC: number;
  outC: number;
}

/** VGG-19 up to conv5_1, the layers neural style transfer reads (relu1_1 … relu5_1, relu4_2). */
export const VGG19_CONVS: readonly ConvSpec[] = [
  { name: "block1_conv1", inC: 3, outC: 64 },
  { name: "block1_conv2", inC: 64, outC: 64 },
  { name: "block2_conv1", inC: 64, outC: 128 },
  { name: "block2_conv2", inC: 128, outC: 128 },
  { name: "block3_conv1", inC: 128, outC: 256 },
  { name: "block3_conv2", inC: 256, outC: 256 },
  { name: "block3_conv3", inC: 256, outC: 256 },
  { name: "block3_conv4", inC: 256, outC: 256 },
  { name: "block4_conv1", inC: 256, outC: 512 },
  { name: "block4_conv2", inC: 512, outC: 512 },
  { name: "block4_conv3", inC: 512, outC: 512 },
  { name: "block4_conv4", inC: 512, outC: 512 },
  { name: "block5_conv1", inC: 512, outC: 512 },
];

/** VGG-19 with every layer's channels ÷ `divisor` (the RGB input kept): same structure, a fraction of the work. */
export function narrowedConvs(divisor: number): ConvSpec[] {
  return VGG19_CONVS.map((c) => ({ ...c, inC: c.inC === 3 ? 3 : c.inC / divisor, outC: c.outC / divisor }));
}

const RANDOM_SPEC = /^random(?::(\d{1,9}))?$/;

/**
 * spec = path to a Keras VGG19 notop .h5, or "random" / "random:<seed>".
 * Results are memoised (the real file is 80 MB): treat the returned arrays as read-only.
 */
export async function loadVggWeights(spec: string): Promise<VggWeights> {
  const random = RANDOM_SPEC.exec(spec.trim());
  if (random) return randomVggWeights(Number(random[1] ?? 0));
  if (spec.trim().startsWith("random:")) {
    throw new UserError(
      "weights-missing",
      `Bad weights "${spec}": use "random" or "random:<seed>" (seed 0…999999999).`,
    );
  }
  return loadVggFile(spec);
}

// ---- from a file ----

let memo: { key: string; weights: Promise<VggWeights> } | undefined;

async function loadVggFile(path: string): Promise<VggWeights> {
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) {
    throw new UserError("weights-missing", `The VGG-19 weights are not at ${path}. ${FETCH_HINT}`);
  }
  const key = `${resolve(path)}\0${st.size}\0${st.mtimeMs}`;
  if (memo?.key !== key) {
    const weights = readVggFile(path, VGG19_CONVS);
    memo = { key, weights };
    weights.catch(() => {
      if (memo?.weights === weights) memo = undefined;
    });
  }
  return memo.weights;
}

/** Read and check `layers` from a Keras HDF5 weights file. Exported for tests with reduced layer tables. */
export async function readVggFile(path: string, layers: readonly ConvSpec[]): Promise<VggWeights> {
  const bad = (why: string) =>
    new UserError(
      "weights-missing",
      `${path} is not usable VGG-19 weights: ${why}. Expected the Keras file ${KERAS_VGG19_NOTOP.fileName}. ${FETCH_HINT}`,
    );
  const check = await checkHdf5(path);
  if (!check.ok && check.problem === "not-hdf5") throw bad("it is not an HDF5 file");
  if (!check.ok && check.problem === "truncated") {
    throw bad(`it is truncated (${check.size} of ${check.expected} bytes)`);
  }
  const convs = await withH5File(path, (file) => {
    // Whole-model saves (model.save) keep the weights under /model_weights.
    const mw = file.get("model_weights");
    const root = isGroup(mw) ? mw : file;
    return layers.map((spec) => readConv(root, spec, bad));
  }).catch((err: unknown) => {
    if (err instanceof UserError) throw err;
    // h5wasm's own messages ("error - name not defined!") mean nothing to a user.
    throw bad("its HDF5 structure cannot be read, so the file is corrupt");
  });

  return { convs, hash: await sha256File(path), random: false };
}

function readConv(root: Group, spec: ConvSpec, bad: (why: string) => Error): ConvWeights {
  const group = root.get(spec.name);
  if (!isGroup(group)) {
    const found = root.keys().filter((k) => /conv|block/i.test(k));
    throw bad(`it has no layer "${spec.name}"${found.length ? ` (layers: ${found.slice(0, 6).join(", ")}…)` : ""}`);
  }
  // Keras lists a layer's weights in the `weight_names` attribute. Their names vary by Keras version
  // ("block1_conv1/kernel:0", "kernel", "block1_conv1_W_1:0"), so tell kernel from bias by rank.
  const named = stringsAttr(group, "weight_names") ?? [];
  const datasets = named.length
    ? named.map((n) => group.get(n)).filter(isDataset)
    : datasetsUnder(group).map(([, d]) => d);
  const kernel = datasets.find((d) => d.shape?.length === 4);
  const bias = datasets.find((d) => d.shape?.length === 1);
  if (!kernel || !bias) throw bad(`layer "${spec.name}" has no 4-D kernel and 1-D bias`);
  const want = [3, 3, spec.inC, spec.outC];
  const shape = kernel.shape ?? [];
  if (shape.join() !== want.join()) {
    throw bad(
      `layer "${spec.name}" kernel is [${shape.join(", ")}], expected [${want.join(", ")}] (height, width, in, out)`,
    );
  }
  if (bias.shape?.[0] !== spec.outC) {
    throw bad(`layer "${spec.name}" bias has ${bias.shape?.[0]} values, expected ${spec.outC}`);
  }
  return {
    name: spec.name,
    inC: spec.inC,
    outC: spec.outC,
    kernel: hwioToOihw(float32Values(kernel), spec.inC, spec.outC),
    bias: Float32Array.from(float32Values(bias)),
  };
}

/** Keras/TensorFlow kernels are (H, W, In, Out); ONNX Conv wants (Out, In, H, W). Both cross-correlate. */
export function hwioToOihw(src: Float32Array, inC: number, outC: number, k = 3): Float32Array {
  const dst = new Float32Array(src.length);
  for (let h = 0; h < k; h++)
    for (let w = 0; w < k; w++)
      for (let i = 0; i < inC; i++) {
        const from = ((h * k + w) * inC + i) * outC;
        for (let o = 0; o < outC; o++) dst[((o * inC + i) * k + h) * k + w] = src[from + o];
      }
  return dst;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

// ---- random ----

/** The last full-size set only: each is 80 MB. */
let randomMemo: { seed: number; weights: VggWeights } | undefined;

/** He-normal kernels (std √(2/fan_in), keeps ReLU activations at a steady scale) and N(0, 0.5²) biases,
 * from a seeded PRNG: the same seed gives the same weights on every machine. */
export function randomVggWeights(seed: number, layers: readonly ConvSpec[] = VGG19_CONVS): VggWeights {
  if (layers === VGG19_CONVS && randomMemo?.seed === seed) return randomMemo.weights;
  const convs = layers.map((spec, index) => {
    const normal = gaussian(mulberry32(hashInts(seed, index)));
    const std = Math.sqrt(2 / (spec.inC * 9));
    const kernel = new Float32Array(spec.outC * spec.inC * 9);
    for (let j = 0; j < kernel.length; j++) kernel[j] = normal() * std;
    const bias = new Float32Array(spec.outC);
    for (let j = 0; j < bias.length; j++) bias[j] = normal() * 0.5;
    return { name: spec.name, inC: spec.inC, outC: spec.outC, kernel, bias };
  });
  const shapeKey = layers.map((l) => `${l.name}:${l.inC}:${l.outC}`).join(",");
  const hash = createHash("sha256").update(`vgg-random-v1:${seed}:${shapeKey}`).digest("hex");
  const weights: VggWeights = { convs, hash, random: true };
  if (layers === VGG19_CONVS) randomMemo = { seed, weights };
  return weights;
}

function hashInts(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  return Math.imul(h, 0x27d4eb2d) >>> 0;
}

/** mulberry32: tiny, fast, good enough for weight initialisation. Uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Box–Muller: standard normal samples from a uniform source (both outputs used). */
function gaussian(uniform: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const theta = 2 * Math.PI * uniform();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}
