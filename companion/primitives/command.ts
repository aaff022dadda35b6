// `stylize primitives <input…> -o <out> …`: the engine from the command line, on one image or a
// batch (several inputs, -o a folder or a {name} pattern: see ../outputs.ts).
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import type { Command } from "commander";
import { marksFocus, NO_FOCUS, normalHex } from "../../shared/primitives/controls";
import { exhaustedNote } from "../../shared/primitives/stream";
import { MAX_PALETTE, type PrimitivesOptions } from "../../shared/protocol";
import { SHAPE_MODES, type ShapeMode } from "../../shared/shapes";
import { type BatchItem, runBatch } from "../batch";
import { UserError } from "../errors";
import { imageSize, loadImage } from "../image";
import { planOutputs } from "../outputs";
import { checkPngPath } from "../style/command";
import { MAX_WORKERS } from "./engine";
import { checkOutputPath, outputSize, writeResults } from "./render";
import { runPrimitives } from "./run";
import { Progress } from "./progress";
import { type PaintFlags, painter } from "./paint-first";

/** The classic tool's -m numbers, accepted too so its users' scripts keep working. */
const CLASSIC_MODES: Record<string, ShapeMode> = {
  "0": "combo",
  "1": "triangle",
  "2": "rectangle",
  "3": "ellipse",
  "4": "circle",
  "5": "rotated-rectangle",
  "6": "bezier",
  "7": "rotated-ellipse",
  "8": "polygon",
};

export function parseIntOption(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || n < min || n > max) {
    throw new UserError("bad-message", `${flag} must be a whole number from ${min} to ${max} (got "${value}")`);
  }
  return n;
}

export function parseRealOption(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    throw new UserError("bad-message", `${flag} must be a number from ${min} to ${max} (got "${value}")`);
  }
  return n;
}

export function parseShape(value: string): ShapeMode {
  const mode = CLASSIC_MODES[value] ?? value;
  if (!(SHAPE_MODES as readonly string[]).includes(mode)) {
    throw new UserError("bad-message", `-m must be one of ${SHAPE_MODES.join(", ")} (or 0-8) (got "${value}")`);
  }
  return mode as ShapeMode;
}

/** "#hex,#hex,…" → the list (each a 6-digit hex colour). */
export function parsePalette(value: string): string[] {
  const colours = value
    .split(",")
    .map((c) => c.trim())
    .filter(Boolean);
  const bad = colours.find((c) => normalHex(c) === null);
  if (bad !== undefined) {
    throw new UserError("bad-message", `--palette: "${bad}" is not a hex colour like #1d3b8f or #fff`);
  }
  if (colours.length === 0 || colours.length > MAX_PALETTE)
    throw new UserError(
      "bad-message",
      `--palette must list 1 to ${MAX_PALETTE} hex colours separated by commas, like "#1d3b8f,#f2c230" (got ${colours.length})`,
    );
  return colours.map((c) => normalHex(c) as string);
}

export function parseFill(value: string): "flat" | "gradient" {
  if (value === "flat" || value === "gradient") return value;
  throw new UserError("bad-message", `--fill must be flat or gradient (got "${value}")`);
}

export function parseBackground(value: string): string {
  if (value === "none" || value === "avg") return value;
  const hex = normalHex(value);
  if (hex) return hex;
  throw new UserError(
    "bad-message",
    `--bg must be "none", "avg" or a hex colour like #ffffff or #fff (got "${value}")`,
  );
}

interface Flags extends PaintFlags {
  output: string[];
  count: string;
  mode: string;
  alpha: string;
  resize: string;
  size?: string;
  bg: string;
  jobs?: string;
  seed: string;
  algorithm: string;
  focus?: string;
  focusWeight: string;
  palette?: string;
  fill: string;
  json?: boolean;
}

export function registerPrimitives(program: Command): void {
  program
    .command("primitives")
    .description("rebuild an image from primitive shapes found by hill climbing")
    .argument("<inputs...>", "image(s) to rebuild (PNG, JPEG, WebP, …); several make a batch")
    .requiredOption(
      "-o, --output <path>",
      "output .svg, .png or .json (repeat for several); with several inputs a folder (out/) or a pattern (out/{name}.svg)",
      collect,
      [],
    )
    .option("-n, --count <n>", "number of shapes", "100")
    .option("-m, --mode <shape>", `${SHAPE_MODES.join(" | ")} (or the classic tool's 0-8)`, "triangle")
    .option("-a, --alpha <0-255>", "shape opacity; 0 = chosen per shape", "128")
    .option("-r, --resize <px>", "working size (longest side) the search runs at", "256")
    .option("-s, --size <px>", "output size (longest side); default: the input's")
    .option(
      "--bg <none|avg|hex>",
      "none: transparent parts stay transparent (else as avg); avg: the mean colour, transparency on white; or a hex colour",
      "none",
    )
    .option("-j, --jobs <n>", "worker threads (default: cores)")
    .option("--seed <n>", "random seed (same seed and -j = same result)", "0")
    .option("--algorithm <name>", "hillclimb (best shape per step) or seed (the paper's random variant)", "hillclimb")
    .option("--focus <mask.png>", "where detail matters: white areas of this image weigh more (see --focus-weight)")
    .option("--focus-weight <n>", "how much more the error counts inside the focus mask (1-100)", "16")
    .option("--palette <colours>", 'shape colours only from these, e.g. "#1d3b8f,#f2c230,#ffffff"')
    .option("--fill <flat|gradient>", "flat: one colour per shape; gradient: a two-stop linear gradient each", "flat")
    .option("--json", "print one JSON summary on stdout instead of progress on stderr")
    .option(
      "--style <images>",
      "paint the input in this style first (comma-separated for several), then find the shapes on the painting",
    )
    .option("--weights <file|random[:seed]>", "with --style: the VGG-19 weights (default: as `stylize style`)")
    .option("--style-size <px>", "with --style: the painting's longest side", "512")
    .option("--iters <n>", "with --style: style iterations over all scales", "100")
    .option("--style-weight <x>", "with --style: how strongly the style shows", "30")
    .option("--device <name>", "with --style: auto, cpu, webgpu or cuda", "auto")
    .option("--painting <file.png>", "with --style: also write the painting (one input only)")
    .action(reportUserErrors("stylize primitives", primitivesCommand));
}

/** Wraps an action so a UserError prints one plain line and exits 1 (bugs keep their stack). */
export function reportUserErrors<A extends unknown[]>(name: string, action: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await action(...args);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exitCode = 1;
    }
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Flags of the painting half: given without --style they would do nothing, so they are refused. */
const PAINT_FLAGS = {
  weights: "--weights",
  styleSize: "--style-size",
  iters: "--iters",
  styleWeight: "--style-weight",
  device: "--device",
  painting: "--painting",
} as const;

async function primitivesCommand(inputs: string[], flags: Flags, command: Command): Promise<void> {
  const reads = [flags.focus, ...(flags.style?.split(",") ?? [])].map((p) => p?.trim()).filter((p) => !!p) as string[];
  const plan = planOutputs(inputs, flags.output, { ext: ".svg", check: checkOutputPath, reads });
  if (flags.algorithm !== "hillclimb" && flags.algorithm !== "seed") {
    throw new UserError("bad-message", `--algorithm must be hillclimb or seed (got "${flags.algorithm}")`);
  }
  const options: PrimitivesOptions = {
    count: parseIntOption("-n", flags.count, 1, 5000),
    shape: parseShape(flags.mode),
    alpha: parseIntOption("-a", flags.alpha, 0, 255),
    workSize: parseIntOption("-r", flags.resize, 16, 1024),
    background: parseBackground(flags.bg),
    seed: parseIntOption("--seed", flags.seed, 0, 2 ** 31 - 1),
    algorithm: flags.algorithm,
    palette: flags.palette === undefined ? undefined : parsePalette(flags.palette),
    focusWeight: parseRealOption("--focus-weight", flags.focusWeight, 1, 100),
    fill: parseFill(flags.fill),
  };
  const workers = flags.jobs ? parseIntOption("-j", flags.jobs, 1, MAX_WORKERS) : availableParallelism();
  const size = flags.size ? parseIntOption("-s", flags.size, 1, 16384) : undefined;

  if (!flags.style) {
    for (const [key, flag] of Object.entries(PAINT_FLAGS))
      if (command.getOptionValueSource(key) === "cli") throw new UserError("bad-message", `${flag} needs --style`);
  }
  if (flags.painting && inputs.length > 1) throw new UserError("bad-message", "--painting takes one input only");
  // --painting as -o is: a file, or a folder or {name} pattern (for the one input), checked now
  const painting = flags.painting
    ? planOutputs(inputs, [flags.painting], { ext: ".png", check: checkPngPath, reads, flag: "--painting" })[0][0]
    : undefined;
  if (painting && plan[0].some((o) => resolve(o) === resolve(painting))) {
    throw new UserError("bad-message", `--painting and -o both name "${painting}"`);
  }
  const paint = flags.style ? await painter({ ...flags, style: flags.style, painting }) : undefined;
  const focus = flags.focus ? await loadImage(flags.focus) : undefined;
  if (flags.focus && focus && !marksFocus(focus.data)) {
    throw new UserError("bad-message", `--focus "${flags.focus}" ${NO_FOCUS}`);
  }
  const items = inputs.map((input, i) => ({ input, outputs: plan[i] }));
  const batch = items.length > 1;
  const each = async ({ input, outputs }: BatchItem) => {
    // with --style the shapes rebuild the painting (the content's alpha kept), sized as the input;
    // the painter decodes the input, so here only its size is read (header only)
    const image = paint ? await paint(input, !!flags.json) : await loadImage(input);
    const inputSize = paint ? await imageSize(input) : image;
    const progress = flags.json ? null : new Progress(options.count);
    const result = await runPrimitives(image, options, {
      workers,
      focus,
      onShape: (e, ms) => progress?.update(e.index + 1, e.score, ms),
    });
    progress?.done();
    const longest = size ?? Math.max(inputSize.width, inputSize.height);
    await writeResults(result.list, outputs, outputSize(inputSize, longest), image);

    const { list } = result;
    if (flags.json) {
      const summary = {
        ...(batch ? { input, outputs } : {}),
        shapes: list.shapes.length,
        score: list.score,
        ms: Math.round(result.ms),
        workers: result.workers,
        width: list.width,
        height: list.height,
        ...(result.exhausted ? { note: exhaustedNote(list.shapes.length, options.count) } : {}),
      };
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      process.stderr.write(
        `${list.shapes.length} shapes, score ${list.score?.toFixed(6)}, ${(result.ms / 1000).toFixed(2)} s on ${result.workers} workers → ${outputs.join(", ")}\n`,
      );
      if (result.exhausted) process.stderr.write(`${exhaustedNote(list.shapes.length, options.count)}\n`);
    }
  };
  await runBatch("stylize primitives", items, each, !!flags.json);
}
