// How much memory a style job needs, and a refusal before it starts when the computer lacks it:
// VGG-19 activations plus the gradient graph grow with the pixels (~5 KB a pixel), so a 2048 px
// job needs ~20 GB and would swap a laptop or get the companion killed mid-job.
import { totalmem } from "node:os";
import type { StyleOptions } from "../../shared/protocol";
import { UserError } from "../errors";
import { planScales, snap } from "../../shared/style/plan";

// Peak RSS of runStyle (CPU, random weights, one style, 1 iteration, one scale), fitted as
// a + b·pixels by least squares. Measured 2026-11-23 on the 2-core/24 GB dev box (onnxruntime-node
// 1.30, CPU provider), in MiB: 128 px 695, 256 px 991, 384 px 1405, 512 px 2008, 768 px 3544;
// the fit is within 7 % of each (worst at 128 px, where it over-estimates). Re-measure with
// `stylize bench style --memory --sizes 128,256,384,512,768` after changing the graphs.
/** Sessions, weights (twice: features and loss graphs), Node and sharp. */
const FIXED_BYTES = 662 * 2 ** 20;
/** Loss + gradient graph and the content's forward pass, per output pixel (fitted 4.93e-3 MiB). */
const BYTES_PER_PIXEL = 5170;
/** A style image bigger than the output (--style-scale > 1) runs a forward pass of its own size:
 * measured +0.5–0.9 KB for each style pixel beyond the output's (256 px at ×2 and ×4, 384 px at ×2). */
const BYTES_PER_EXTRA_STYLE_PIXEL = 900;
/** Each masked style is its own loss term with masked Grams: +1.2–1.4 KB a pixel each (384 px, 1–3 masks). */
const BYTES_PER_MASKED_TERM_PIXEL = 1400;
/** Optimiser state on top of the measured single step: L-BFGS keeps 10 curvature pairs (2·10 float
 * images of 3 channels); Adam keeps two moment images. */
const OPTIMIZER_BYTES_PER_PIXEL = { lbfgs: 2 * 10 * 12, adam: 2 * 12 } as const;

/** Share of the computer's memory a style job may use (the rest: the OS, Figma, the browser). */
const MEMORY_SHARE = 0.6;

export interface MemoryShape {
  /** The output's (finest scale's) size in pixels. */
  width: number;
  height: number;
  styleScale: number;
  optimizer: StyleOptions["optimizer"];
  /** Style terms with a region mask. */
  maskedTerms: number;
  /** The style images' sizes (only their aspect ratios matter); without them, square (the worst case). */
  styles?: { width: number; height: number }[];
}

/** Estimated peak resident memory, in bytes, of a style job whose finest scale is width × height. */
export function estimateStyleMemory(s: MemoryShape): number {
  const pixels = s.width * s.height;
  // The engine sizes each style image so its longest side = the output's longest side × styleScale.
  const long = Math.max(s.width, s.height) * s.styleScale;
  const stylePixels = (s.styles?.length ? s.styles : [{ width: 1, height: 1 }]).map((st) => {
    const k = long / Math.max(st.width, st.height);
    return snap(st.width * k) * snap(st.height * k);
  });
  const extraStyle = Math.max(0, Math.max(...stylePixels) - pixels);
  return (
    FIXED_BYTES +
    pixels * (BYTES_PER_PIXEL + OPTIMIZER_BYTES_PER_PIXEL[s.optimizer] + s.maskedTerms * BYTES_PER_MASKED_TERM_PIXEL) +
    extraStyle * BYTES_PER_EXTRA_STYLE_PIXEL
  );
}

/** Bytes a style job may use now: STYLIZE_STYLE_MEM_MB if set, else 60 % of the memory minus what we hold. */
export function styleMemoryBudget(env: NodeJS.ProcessEnv = process.env): number {
  const mb = env.STYLIZE_STYLE_MEM_MB;
  if (mb !== undefined && mb.trim() !== "") {
    const n = Number(mb);
    if (!Number.isFinite(n) || n <= 0)
      throw new UserError("bad-message", `STYLIZE_STYLE_MEM_MB must be a positive number of megabytes (got "${mb}").`);
    return n * 2 ** 20;
  }
  return Math.max(0, totalmem() * MEMORY_SHARE - process.memoryUsage.rss());
}

export interface MemoryJob {
  content: { width: number; height: number };
  styles: { width: number; height: number }[];
  options: Pick<StyleOptions, "size" | "scales" | "iters" | "detailIters" | "styleScale" | "optimizer">;
  maskedTerms: number;
}

/** Throws UserError("too-large") naming the largest size that fits, when the job's estimate exceeds `budget`. */
export function checkStyleMemory(job: MemoryJob, budget: number): void {
  const need = estimateAt(job, job.options.size);
  if (need <= budget) return;
  const fits = largestFittingSize(job, budget);
  const advice = fits
    ? `Choose a smaller size (at most ${fits} px).`
    : "Close other programs and try again with a small size.";
  throw new UserError(
    "too-large",
    `A ${job.options.size} px style transfer needs about ${gb(need)} GB of memory; ` +
      `this computer has ${gb(budget)} GB free for it. ${advice}`,
  );
}

/** The largest output size (a multiple of 16, as the graphs need) whose estimate fits, or undefined. */
export function largestFittingSize(job: MemoryJob, budget: number): number | undefined {
  for (let size = Math.floor(job.options.size / 16) * 16; size >= 16; size -= 16)
    if (size < job.options.size && estimateAt(job, size) <= budget) return size;
  return undefined;
}

function estimateAt(job: MemoryJob, size: number): number {
  const o = job.options;
  const plan = planScales(job.content.width, job.content.height, size, o.scales, o.iters, o.detailIters);
  const finest = plan.scales[plan.scales.length - 1];
  return estimateStyleMemory({
    width: finest.width,
    height: finest.height,
    styleScale: o.styleScale,
    optimizer: o.optimizer,
    maskedTerms: job.maskedTerms,
    styles: job.styles,
  });
}

const gb = (bytes: number) => (bytes / 1e9).toFixed(1);
