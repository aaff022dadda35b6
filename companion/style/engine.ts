// runStyle: one neural style transfer job (Gatys et al.), coarse to fine over scales, on the
// ONNX graphs of ./graph via ./session, optimised with L-BFGS or Adam.
import type { StyleOptions } from "../../shared/protocol";
import { DEVICE_LABEL } from "../../shared/devices";
import { abortError, UserError } from "../errors";
import { type RgbaImage, resizeRgba } from "../image";
import { ADAM_VECTORS, Adam } from "../../shared/style/optim/adam";
import { DEFAULT_HISTORY, Lbfgs, lbfgsVectors } from "../../shared/style/optim/lbfgs";
import type { Objective } from "../../shared/style/optim/types";
import { HostVectors, type VectorOps } from "../../shared/style/optim/vectors";
import {
  flattenOnWhite,
  fromNetwork,
  luminanceOnly,
  lumaStats,
  maskFromImage,
  noiseNetwork,
  toNetwork,
  transferChroma,
  withAlphaOf,
} from "./pixels";
import { checkStyleMemory, styleMemoryBudget } from "./memory";
import { styleLayerScales } from "./graph/loss";
import { planScales, type Scale, snap } from "../../shared/style/plan";
import { type LossNet, type LossWeights, MovedToCpu, openStyleNet, type Targets } from "./session";
import { loadVggWeights } from "./vgg-weights";

export interface StyleInputs {
  content: RgbaImage;
  styles: RgbaImage[];
  /** masks[i] belongs to styles[i]: where in the output that style applies (white = there). */
  masks?: (RgbaImage | undefined)[];
}
export interface StyleProgress {
  iter: number;
  total: number;
  loss: number;
  terms: Record<string, number>;
  /** 1-based. */
  scale: number;
  scales: number;
  etaMs?: number;
}
export interface StyleRunSpec {
  options: StyleOptions;
  /** Path to a Keras VGG19 notop .h5, or "random" / "random:<seed>". */
  weights: string;
  signal?: AbortSignal;
  onProgress?: (p: StyleProgress) => void;
  onPreview?: (img: RgbaImage, iter: number) => void | Promise<void>;
  /** Things a user should know (device choice and fallbacks, random weights). */
  onNote?: (message: string) => void;
  /** For benchmarks: keep the optimiser's vectors on the host even when the evaluation is on a GPU. */
  vectorsOnHost?: boolean;
  /** Bytes the job may use; default styleMemoryBudget() (60 % of memory minus ours, or STYLIZE_STYLE_MEM_MB). */
  memoryBudget?: number;
}
export interface StyleResult {
  image: RgbaImage;
  /** Where the job ended up running. */
  device: string;
  /** Set when a GPU failed and (part of) the job ran on the CPU: why. */
  fallback?: string;
  ms: number;
  iters: number;
  loss: number;
  /** Objective evaluations (forward + backward passes); ≥ iters with L-BFGS line searches. */
  evals: number;
  /** Time spent in optimisation steps only (excludes model load and targets). */
  stepMs: number;
  /** Per scale: its size, and the iterations and evaluations it took (evaluations × pixels = the
   * job's cost, whatever the machine's speed). */
  scales: {
    width: number;
    height: number;
    iters: number;
    evals: number;
    /** Where the optimiser's vectors were: with the evaluation on the GPU, or in JavaScript. */
    vectors: "gpu" | "host";
  }[];
}

/**
 * firstStep: the first L-BFGS step moves the steepest pixel by 8 levels (see initialScale below).
 * decreaseOnly: the full-size scale has few iterations, and an extra line-search evaluation costs
 * a whole one.
 */
const LBFGS_OPTIONS = { history: DEFAULT_HISTORY, firstStep: 8, decreaseOnly: true };

export const RANDOM_WEIGHTS_NOTICE = "random weights: output is not artistic";

/**
 * Rejects with abortError() when aborted, UserError("weights-missing") without weights and
 * UserError("too-large") when the job would need more memory than the budget (before any work).
 */
export async function runStyle(inputs: StyleInputs, spec: StyleRunSpec): Promise<StyleResult> {
  const t0 = performance.now();
  const o = spec.options;
  const { signal } = spec;
  const checkAbort = () => {
    if (signal?.aborted) throw abortError();
  };
  const groups = groupStyles(inputs, o.styleBlend);
  const maskedTerms = groups.filter((g) => g.mask).length;
  // The CPU engine's memory, checked before any work when the job asks for the CPU, else only if
  // the job ends up there (a GPU holds its own buffers; see webgpu-net's size check).
  const cpuGuard = () =>
    checkStyleMemory({ ...inputs, options: o, maskedTerms }, spec.memoryBudget ?? styleMemoryBudget());
  if (o.device === "cpu") cpuGuard();
  checkAbort();
  const weights = await loadVggWeights(spec.weights);
  if (weights.random) spec.onNote?.(RANDOM_WEIGHTS_NOTICE);
  checkAbort();
  const net = await openStyleNet(weights, {
    pooling: o.pooling,
    masked: groups.map((g) => g.mask !== undefined),
    device: o.device,
    cpuGuard,
  });
  // Notes as they come: the device choice now, a GPU that fails mid-job later.
  let noted = 0;
  const flushNotes = () => {
    for (; noted < net.notes.length; noted++) spec.onNote?.(net.notes[noted]);
  };
  flushNotes();
  try {
    const plan = planScales(inputs.content.width, inputs.content.height, o.size, o.scales, o.iters, o.detailIters);
    const finest = plan.scales[plan.scales.length - 1];
    net.check?.(finest.width, finest.height);
    const units = plan.scales.map((s) => s.iters * s.width * s.height);
    const totalUnits = units.reduce((a, b) => a + b, 0);
    let done = 0;
    let doneUnits = 0;
    const perScale: StyleResult["scales"] = [];
    let stepMs = 0;
    let last: { loss: number } | undefined;
    let prev: Coarser | undefined;
    for (const [si, scale] of plan.scales.entries()) {
      checkAbort();
      const ctx = await scaleContext(net, inputs, groups, o, scale);
      const x0 = prev ? await warmStart(prev, ctx, o, scale) : initial(ctx.content, o, scale);
      const { height: h, width: w } = scale;
      const record: StyleResult["scales"][number] = { width: w, height: h, iters: 0, evals: 0, vectors: "host" };
      perScale.push(record);
      // At finer scales the curvature learnt below is a far better first step than firstStep (the
      // losses are relative to sums over all pixels, so the Hessian per pixel shrinks as the pixel
      // count grows): without it, the first steps at 1024 px are so short that float32 rounding
      // hides their progress.
      const initialScale = prev?.curvature && prev.curvature * ((w * h) / prev.pixels);
      /**
       * The scale's optimisation from x0, with the vectors where `ops` keeps them; `guard` wraps
       * each piece of GPU work (see OnDevice.guard). Returns the optimised x on the host.
       */
      const optimise = async <V>(
        ops: VectorOps<V>,
        f: Objective<V>,
        guard: <T>(work: () => Promise<T>) => Promise<T> = (work) => work(),
      ) => {
        const x = ops.fromHost(x0);
        const opt =
          o.optimizer === "adam" ? new Adam(x, f, {}, ops) : new Lbfgs(x, f, { ...LBFGS_OPTIONS, initialScale }, ops);
        for (let i = 0; i < scale.iters; i++) {
          checkAbort();
          const ts = performance.now();
          const r = await guard(() => opt.step());
          stepMs += performance.now() - ts;
          record.iters++;
          record.evals += r.evals;
          last = r.at;
          flushNotes();
          done++;
          doneUnits += w * h;
          spec.onProgress?.({
            iter: done,
            total: o.iters,
            loss: r.at.loss,
            terms: r.at.terms ?? {},
            scale: si + 1,
            scales: plan.scales.length,
            etaMs: (stepMs / doneUnits) * (totalUnits - doneUnits),
          });
          if (r.converged) {
            doneUnits += (scale.iters - i - 1) * w * h;
            done += scale.iters - i - 1;
            break;
          }
          const isLast = i === scale.iters - 1;
          if (o.previewEvery > 0 && done % o.previewEvery === 0 && !isLast && spec.onPreview)
            await spec.onPreview(ctx.finish(await guard(() => ops.toHost(x))), done);
        }
        return {
          x: await guard(() => ops.toHost(x)),
          curvature: opt instanceof Lbfgs ? opt.curvatureScale : undefined,
        };
      };
      const onHost = () =>
        optimise(new HostVectors(x0.length), async (xx: Float32Array) => {
          checkAbort(); // also between line-search evaluations, which can take seconds each
          const e = await net.evaluate(xx, h, w, ctx.targets, ctx.weights);
          // Never taken for convergence (L-BFGS stops on a NaN slope): a GPU's NaN has moved the job to the CPU already.
          if (Number.isNaN(e.loss))
            throw new Error(
              `the style loss is not a number (NaN) on the ${DEVICE_LABEL[net.device]}: are the weights damaged?`,
            );
          return e;
        });
      // On a GPU the optimiser's vectors stay there too; if the GPU fails, the scale starts again on the CPU.
      // The loss's own buffers first: a GPU short of memory then gives up only the vectors (noted).
      const reserve = o.optimizer === "adam" ? ADAM_VECTORS : lbfgsVectors(LBFGS_OPTIONS);
      if (!spec.vectorsOnHost) await net.prepare?.(h, w, ctx.targets, ctx.weights);
      const gpu = spec.vectorsOnHost ? undefined : await net.onDevice?.(x0.length, LBFGS_OPTIONS.history, reserve);
      flushNotes();
      let result: Awaited<ReturnType<typeof onHost>>;
      if (!gpu) result = await onHost();
      else {
        const before = { done, doneUnits, stepMs };
        record.vectors = "gpu";
        try {
          result = await optimise(
            gpu.ops,
            async (xx: GPUBuffer) => {
              checkAbort();
              const grad = gpu.ops.take();
              try {
                return { ...(await gpu.evaluate(xx, grad, h, w, ctx.targets, ctx.weights)), grad };
              } catch (err) {
                gpu.ops.release(grad);
                throw err;
              }
            },
            gpu.guard,
          );
        } catch (err) {
          if (!(err instanceof MovedToCpu)) throw err;
          gpu.dispose(); // before the CPU's run: on a unified-memory machine they are the CPU's memory too
          flushNotes();
          ({ done, doneUnits, stepMs } = before);
          Object.assign(record, { iters: 0, evals: 0, vectors: "host" });
          result = await onHost();
        } finally {
          gpu.dispose();
        }
      }
      prev = {
        image: ctx.finish(result.x),
        optimised: fromNetwork(result.x, w, h),
        content: ctx.contentImage,
        pixels: w * h,
        curvature: result.curvature,
      };
      if (si < plan.scales.length - 1) await spec.onPreview?.(prev.image, done); // each scale change
    }
    const out = await resizeRgba(prev!.image, plan.width, plan.height);
    flushNotes();
    return {
      image: out,
      device: net.device,
      fallback: net.fallback,
      ms: performance.now() - t0,
      iters: done,
      loss: last?.loss ?? Number.NaN,
      evals: perScale.reduce((sum, sc) => sum + sc.evals, 0),
      stepMs,
      scales: perScale,
    };
  } finally {
    await net.release();
  }
}

/** A loss term: unmasked styles are blended into one (their Grams averaged), each masked style is its own. */
interface StyleGroup {
  styles: { image: RgbaImage; blend: number }[];
  mask?: RgbaImage;
}

function groupStyles(inputs: StyleInputs, blend: number[] | undefined): StyleGroup[] {
  const n = inputs.styles.length;
  if (n < 1) throw new UserError("bad-message", "At least one style image is needed.");
  if (blend && blend.length !== n)
    throw new UserError("bad-message", `--style-blend has ${blend.length} weights for ${n} style images.`);
  if ((inputs.masks?.length ?? 0) > n) throw new UserError("bad-message", "There are more masks than style images.");
  const b = blend ?? new Array<number>(n).fill(1);
  if (!b.some((v) => v > 0)) throw new UserError("bad-message", "The style blend weights are all zero.");
  const masked = inputs.styles.map((_, i) => inputs.masks?.[i]);
  const plain = inputs.styles.map((image, i) => ({ image, blend: b[i], i })).filter(({ i }) => !masked[i]);
  const plainSum = plain.reduce((a, s) => a + s.blend, 0);
  // Masked styles: blend weights relative to their mean, so equal weights mean full strength.
  const maskedIdx = masked.flatMap((m, i) => (m ? [i] : []));
  const maskedMean = maskedIdx.reduce((a, i) => a + b[i], 0) / Math.max(1, maskedIdx.length);
  const groups: StyleGroup[] = [];
  if (plain.length && plainSum > 0)
    groups.push({ styles: plain.map((s) => ({ image: s.image, blend: s.blend / plainSum })) });
  for (const i of maskedIdx)
    groups.push({
      styles: [{ image: inputs.styles[i], blend: maskedMean > 0 ? b[i] / maskedMean : 0 }],
      mask: masked[i],
    });
  return groups;
}

/** Everything one scale needs: content at this size, targets, loss weights, how to turn x into an image. */
async function scaleContext(net: LossNet, inputs: StyleInputs, groups: StyleGroup[], o: StyleOptions, s: Scale) {
  const raw = await resizeRgba(inputs.content, s.width, s.height);
  const content = flattenOnWhite(raw);
  const contentX = toNetwork(content);
  const own = await net.features(contentX, s.height, s.width);
  const targets: Targets = { content: own.content, grams: [], masks: [], styleScales: [] };
  const lw: LossWeights = { content: o.contentWeight, tv: o.tvWeight, style: [] };
  const luma = o.preserveColors ? lumaStats(content) : undefined;
  const cache = new Map<RgbaImage, Float32Array[]>();
  for (const [gi, g] of groups.entries()) {
    let blended: Float32Array[] | undefined;
    let blendSum = 0;
    for (const st of g.styles) {
      let grams = cache.get(st.image);
      if (!grams) {
        grams = await styleGrams(net, st.image, luma, o.styleScale, s);
        cache.set(st.image, grams);
      }
      blended ??= grams.map((m) => new Float32Array(m.length));
      grams.forEach((m, l) => {
        for (let j = 0; j < m.length; j++) blended![l][j] += st.blend * m[j];
      });
      blendSum += st.blend;
    }
    targets.grams.push(blended!);
    targets.styleScales.push(styleLayerScales(blended!, own.grams));
    let weight = o.styleWeight * (g.mask ? blendSum : 1);
    if (g.mask) {
      const m = maskFromImage(await resizeRgba(g.mask, s.width, s.height));
      const area = m.reduce((a, v) => a + v, 0) / m.length;
      if (area < 1e-4)
        throw new UserError("bad-image", `The mask for style ${gi + 1} is empty (all black or transparent).`);
      // A region's Gram is averaged over its own area: weighting by the area keeps the style's
      // per-pixel strength the same as a style over the whole image.
      weight *= area;
      targets.masks.push(m);
    } else targets.masks.push(undefined);
    lw.style.push(weight);
  }
  const finish = (x: Float32Array): RgbaImage => {
    const img = fromNetwork(x, s.width, s.height);
    return withAlphaOf(o.preserveColors ? transferChroma(img, content) : img, raw);
  };
  return { content: contentX, contentImage: content, targets, weights: lw, finish };
}

/** A style image's Gram targets at this scale: its longest side = the scale's × styleScale. */
async function styleGrams(
  net: LossNet,
  style: RgbaImage,
  luma: { mean: number; std: number } | undefined,
  styleScale: number,
  s: Scale,
): Promise<Float32Array[]> {
  const long = Math.max(s.width, s.height) * styleScale;
  const k = long / Math.max(style.width, style.height);
  const w = snap(style.width * k);
  const h = snap(style.height * k);
  let img = flattenOnWhite(await resizeRgba(style, w, h));
  if (luma) img = luminanceOnly(img, luma); // --preserve-colors: transfer luminance only
  return (await net.features(toNetwork(img), h, w)).grams;
}

/** What a finer scale takes over from the scale below it. */
interface Coarser {
  /** The result at the coarser scale (colours kept, alpha of the content, as shown). */
  image: RgbaImage;
  /** The optimised pixels themselves, opaque: what the finer scale continues from. */
  optimised: RgbaImage;
  /** The content as that scale saw it. */
  content: RgbaImage;
  pixels: number;
  /** The L-BFGS inverse-Hessian scale it ended with. */
  curvature?: number;
}

/**
 * A finer scale starts from the coarser result, enlarged, plus the detail of the content that the
 * coarser scale could not hold (the content minus its enlarged coarse copy: a Laplacian pyramid
 * level). Enlarged alone, the result is blurred, and the style loss of the blur is 10–40× the
 * converged one; with the detail it starts 3× lower, and the few full-size iterations go to the
 * style's fine texture instead of re-sharpening the subject (`npm run bench:quality`: every figure
 * better at the same cost). A noise start keeps no content detail by choice, so it gets none.
 */
async function warmStart(prev: Coarser, ctx: { content: Float32Array }, o: StyleOptions, s: Scale) {
  const x = toNetwork(await resizeRgba(prev.optimised, s.width, s.height));
  if (o.init !== "content") return x;
  const blurred = toNetwork(await resizeRgba(prev.content, s.width, s.height));
  for (let i = 0; i < x.length; i++) x[i] += ctx.content[i] - blurred[i];
  return x;
}

function initial(contentX: Float32Array, o: StyleOptions, s: Scale): Float32Array {
  if (o.init === "content") return Float32Array.from(contentX);
  return noiseNetwork(s.width, s.height, o.seed);
}
