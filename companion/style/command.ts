// `stylize style <content…> <style>[,<style2>…] -o out.png [...]`: style jobs from the shell. The
// last argument is the style(s); every one before it is a content image, several making a batch
// (-o then a folder or a {name} pattern, see ../outputs.ts) in which the style images are decoded
// once and reused. Progress goes to stderr; with --json one result object per content on stdout.
import { fallbackNote } from "../../shared/devices";
import { writeFile } from "node:fs/promises";
import { extname } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import * as v from "valibot";
import { DEVICES, StyleOptionsSchema } from "../../shared/protocol";
import { type BatchItem, runBatch } from "../batch";
import { UserError } from "../errors";
import { encodePng, loadImage, type RgbaImage } from "../image";
import { ensureFolder, planOutputs, writeOutput } from "../outputs";
import { runStyle, type StyleProgress } from "./engine";
import { defaultWeightsPath } from "./weights";

interface Flags {
  output: string;
  size?: number;
  iters?: number;
  detailIters?: number;
  optimizer?: "lbfgs" | "adam";
  weights?: string;
  device?: (typeof DEVICES)[number];
  contentWeight?: number;
  styleWeight?: number;
  tvWeight?: number;
  styleBlend?: number[];
  styleScale?: number;
  preserveColors?: boolean;
  init?: "content" | "noise";
  scales?: number;
  pooling?: "max" | "avg";
  seed?: number;
  saveEvery?: number;
  masks?: string;
  json?: boolean;
}

const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError("not a number");
  return n;
};
const int = (v: string) => {
  const n = num(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError("not an integer");
  return n;
};
const nums = (v: string) => v.split(",").map((s) => num(s.trim()));

export function registerStyle(program: Command): void {
  program
    .command("style")
    .description("neural style transfer (VGG-19, Gatys et al.) on ONNX Runtime")
    .usage("[options] <content...> <styles>")
    .argument("<images...>", "content image(s) (PNG, JPEG, WebP…), then last the style image(s), comma-separated")
    .requiredOption(
      "-o, --output <file>",
      "output PNG; with several contents a folder (out/) or a pattern (out/{name}.png)",
    )
    .option("--size <px>", "longest side of the output (default 512)", int)
    .option("--iters <n>", "optimisation iterations over all scales", int)
    .option("--detail-iters <n>", "at least this many at each scale above the coarsest (default 6)", int)
    .addOption(new Option("--optimizer <name>", "lbfgs (default) or adam").choices(["lbfgs", "adam"]))
    .option("--weights <file|random[:seed]>", `VGG-19 weights (default ${defaultWeightsPath()})`)
    .addOption(new Option("--device <name>", "where to run (default auto)").choices([...DEVICES]))
    .option("--content-weight <x>", "content loss weight", num)
    .option("--style-weight <x>", "style loss weight", num)
    .option("--tv-weight <x>", "total variation (smoothness) weight", num)
    .option("--style-blend <a,b,…>", "relative weight of each style image", nums)
    .option("--style-scale <x>", "style image size relative to the output (0.1–4)", num)
    .option("--masks <m1,m2,…>", "region mask per style (white = apply there); leave an entry empty for none")
    .option("--preserve-colors", "keep the content's colours (transfer luminance only)")
    .addOption(new Option("--init <from>", "start from the content or noise").choices(["content", "noise"]))
    .option("--scales <n>", "most coarse-to-fine scales (1–5; those under 128 px are dropped)", int)
    .addOption(new Option("--pooling <kind>", "VGG pooling").choices(["max", "avg"]))
    .option("--seed <n>", "random seed (noise init)", int)
    .option("--save-every <k>", "also write the image every k iterations (out.<iter>.png)", int)
    .option("--json", "print one JSON result object on stdout (no progress bar)")
    .action(async (images: string[], flags: Flags) => {
      try {
        if (images.length < 2) throw new UserError("bad-message", "give a content image and then the style image(s)");
        await styleCommand(images.slice(0, -1), images[images.length - 1], flags);
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        process.stderr.write(`stylize style: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}

/** The style engine writes PNG only: refuses, before any work, a name that promises another format. */
export function checkPngPath(path: string): void {
  if (extname(path).toLowerCase() !== ".png") {
    throw new UserError("bad-message", `Cannot write "${path}": the output must end in .png`);
  }
}

async function styleCommand(contentPaths: string[], stylesArg: string, f: Flags): Promise<void> {
  const stylePaths = stylesArg.split(",").filter((s) => s.trim());
  const maskPaths = f.masks?.split(",") ?? [];
  const reads = [...stylePaths, ...maskPaths].map((p) => p.trim()).filter(Boolean);
  const plan = planOutputs(contentPaths, [f.output], { ext: ".png", check: checkPngPath, reads });
  const parsed = v.safeParse(StyleOptionsSchema, {
    size: f.size,
    iters: f.iters,
    detailIters: f.detailIters,
    optimizer: f.optimizer,
    contentWeight: f.contentWeight,
    styleWeight: f.styleWeight,
    tvWeight: f.tvWeight,
    styleBlend: f.styleBlend,
    styleScale: f.styleScale,
    preserveColors: f.preserveColors,
    init: f.init,
    scales: f.scales,
    pooling: f.pooling,
    seed: f.seed,
    device: f.device,
    previewEvery: f.saveEvery ?? 0,
  });
  if (!parsed.success) {
    const issue = parsed.issues[0];
    // the flag, not the schema's key ("styleBlend.1" → "--style-blend, entry 2")
    const [key, index] = issue.path?.map((p) => p.key) ?? [""];
    const entry = typeof index === "number" ? `, entry ${index + 1},` : "";
    const flag = key === "previewEvery" ? "save-every" : kebab(String(key)); // the one option named otherwise here
    throw new UserError("bad-message", `--${flag}${entry} ${issue.message}`);
  }
  const options = parsed.output;
  if (maskPaths.length > stylePaths.length) throw new UserError("bad-message", "--masks has more entries than styles");
  // Inputs are decoded a little above the working size: the engine resizes per scale.
  const maxSide = Math.max(options.size, Math.round(options.size * options.styleScale));
  const styles = await Promise.all(stylePaths.map((p) => loadImage(p.trim(), { maxSide })));
  const masks = await Promise.all(maskPaths.map((p) => (p.trim() ? loadImage(p.trim()) : undefined)));
  const items = contentPaths.map((input, i) => ({ input, outputs: plan[i] }));
  const batch = items.length > 1;
  const each = async ({ input, outputs: [output] }: BatchItem) => {
    const content = await loadImage(input, { maxSide: options.size });
    const bar = f.json ? undefined : progressBar();
    const note = (m: string) => process.stderr.write(`${m}\n`);
    const base = output.slice(0, output.length - extname(output).length);
    await ensureFolder(output);
    const result = await runStyle(
      { content, styles, masks },
      {
        options,
        weights: f.weights ?? defaultWeightsPath(),
        onNote: note,
        onProgress: bar,
        onPreview: f.saveEvery
          ? async (img: RgbaImage, iter: number) => writeFile(`${base}.${iter}.png`, await encodePng(img))
          : undefined,
      },
    );
    if (!f.json) process.stderr.write("\n");
    await writeOutput(output, await encodePng(result.image));
    if (f.json) {
      const out = {
        ...(batch ? { input, output } : {}),
        ms: Math.round(result.ms),
        msPerIter: Math.round(result.stepMs / Math.max(1, result.iters)),
        device: result.device,
        ...(result.fallback ? { fallback: result.fallback } : {}),
        iters: result.iters,
        size: options.size,
        loss: result.loss,
        evals: result.evals,
      };
      process.stdout.write(`${JSON.stringify(out)}\n`);
    } else {
      process.stderr.write(
        `wrote ${output} (${result.image.width}x${result.image.height}) in ${(result.ms / 1000).toFixed(1)} s on ${result.device}` +
          `${result.fallback ? ` (${fallbackNote(result.fallback)})` : ""}\n`,
      );
    }
  };
  await runBatch("stylize style", items, each, !!f.json);
}

/** One updating line on a terminal; a line every 10 iterations otherwise (logs, CI). */
export function progressBar(label = ""): (p: StyleProgress) => void {
  const tty = process.stderr.isTTY;
  let lastScale = 0;
  return (p) => {
    const width = 24;
    const filled = Math.round((p.iter / p.total) * width);
    const eta = p.etaMs === undefined ? "" : ` ETA ${formatTime(p.etaMs)}`;
    const line =
      `${label}scale ${p.scale}/${p.scales} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ` +
      `${p.iter}/${p.total} loss ${p.loss.toExponential(3)}${eta}`;
    if (tty) process.stderr.write(`\r${line}\x1b[K`);
    else if (p.iter % 10 === 0 || p.iter === p.total || p.scale !== lastScale) process.stderr.write(`${line}\n`);
    lastScale = p.scale;
  };
}

function formatTime(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
