// `stylize bench primitives`: wall time and score of our engine, optionally side by side with the
// classic Go `primitive` binary on the same images, shape count, working size and worker count.
// Both scores are measured the same way: the output PNG at the working size against the target
// resized by sharp (RMSE over RGBA, 0..1), so neither tool's internal bookkeeping is trusted.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { promisify } from "node:util";
import type { Command } from "commander";
import sharp from "sharp";
import type { PrimitivesOptions } from "../../shared/protocol";
import type { ShapeMode } from "../../shared/shapes";
import { UserError } from "../errors";
import { type RgbaImage, loadImage, resizeRgba } from "../image";
import { machineInfo } from "../machine";
import { parseFill, parseIntOption, parseShape, reportUserErrors } from "./command";
import { MAX_WORKERS } from "./engine";
import { runInBrowser, shapeListHash } from "./bench-browser";
import { renderRgba, rmse } from "./render";
import { runPrimitives } from "./run";
import type { SearchBudget } from "../../shared/primitives/search";
import { defaultBudget, workSizeOf } from "../../shared/primitives/session";

const exec = promisify(execFile);
const FIXTURE = "../shared/fixtures/pyramids.png";
/** fogleman/primitive's per-step search: runWorkers(t, a, 1000, 100, 16). */
const CLASSIC_BUDGET: SearchBudget = { climbs: 16, candidates: 1000, age: 100 };
/** The classic tool's -m numbers. */
const CLASSIC_CODE: Record<ShapeMode, number> = {
  combo: 0,
  triangle: 1,
  rectangle: 2,
  ellipse: 3,
  circle: 4,
  "rotated-rectangle": 5,
  bezier: 6,
  "rotated-ellipse": 7,
  polygon: 8,
};

interface BenchFlags {
  baseline?: string;
  count: string;
  mode: string;
  resize: string;
  jobs: string;
  image: string[];
  seed: string;
  classicBudget?: boolean;
  browser?: boolean;
  json?: boolean;
  fill: string;
}

export function registerPrimitivesBench(bench: Command): void {
  bench
    .command("primitives")
    .description("hill-climbing engine: wall time and score (optionally against the classic Go tool)")
    .option("--baseline <binary>", "path to fogleman's `primitive` binary to run on the same inputs")
    .option("-n, --count <n>", "shapes per image", "100")
    .option("-m, --mode <shape>", "shape type", "triangle")
    .option("-r, --resize <px>", "working size (longest side)", "256")
    .option("-j, --jobs <n>", "worker threads (both tools)", "2")
    .option(
      "--image <path>",
      `image to use (repeatable); default: ${FIXTURE} if present, plus generated ones`,
      collect,
      [],
    )
    .option("--seed <n>", "random seed for our engine", "0")
    .option(
      "--classic-budget",
      "search as hard as the classic tool (16 climbs × 1000 shapes, age 100) to compare raw speed",
    )
    .option("--fill <flat|gradient>", "shape fills (as stylize primitives --fill)", "flat")
    .option("--browser", "also run the in-plugin engine in headless Chromium on the same pixels, side by side")
    .option("--json", "one JSON line per runtime and image: runtime, ms, score, hash of the shape list")
    .action(reportUserErrors("stylize bench primitives", benchPrimitives));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface Row {
  name: string;
  size: string;
  ms: number;
  /** CPU seconds of this process (all threads) during our run: robust to a busy machine. */
  cpu: number;
  score: number;
  engineScore: number;
  /** Shapes drawn, when the run ended before its count (no shape helped any more). */
  stoppedAt?: number;
  go?: { ms: number; score: number };
}

async function benchPrimitives(flags: BenchFlags): Promise<void> {
  const options: PrimitivesOptions = {
    count: parseIntOption("-n", flags.count, 1, 5000),
    shape: parseShape(flags.mode),
    alpha: 128,
    workSize: parseIntOption("-r", flags.resize, 16, 1024),
    background: "avg",
    seed: parseIntOption("--seed", flags.seed, 0, 2 ** 31 - 1),
    algorithm: "hillclimb",
    focusWeight: 4,
    fill: parseFill(flags.fill),
  };
  const workers = parseIntOption("-j", flags.jobs, 1, MAX_WORKERS);
  const budget = flags.classicBudget ? CLASSIC_BUDGET : defaultBudget(options);
  const baseline = flags.baseline ? resolve(flags.baseline) : undefined;
  if (baseline && !existsSync(baseline)) throw new UserError("bad-message", `--baseline: no such file ${baseline}`);

  const dir = await mkdtemp(join(tmpdir(), "stylize-bench-"));
  try {
    const images = flags.image.length ? flags.image : await defaultImages(dir);
    if (flags.browser || flags.json) return await benchRuntimes(images, options, workers, budget, flags);
    console.log(`machine: ${machineInfo()}`);
    console.log(
      `load average at start: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")} (timings are only comparable on a quiet machine)`,
    );
    console.log(
      `task: ${options.count} × ${options.shape} (${options.fill} fills), alpha ${options.alpha}, working size ${options.workSize}, ${workers} workers`,
    );
    console.log(
      `our search per shape: ${budget.climbs} climbs × best of ${budget.candidates} random shapes, age ${budget.age}${flags.classicBudget ? " (the classic tool's)" : " (default)"}`,
    );
    console.log(
      "score: RMSE (RGBA, 0..1) of each tool's PNG output at the working size vs the same target; lower is better\n",
    );
    const rows: Row[] = [];
    for (const path of images) {
      const row = await benchImage(path, options, workers, budget, baseline, dir);
      rows.push(row);
      printRow(row);
    }
    if (baseline && rows.length > 1) {
      const speed = rows.reduce((s, r) => s + (r.go ? r.go.ms / r.ms : 0), 0) / rows.length;
      console.log(`\nmean speed-up over the classic tool: ${speed.toFixed(2)}x`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function benchImage(
  path: string,
  options: PrimitivesOptions,
  workers: number,
  budget: SearchBudget,
  baseline: string | undefined,
  dir: string,
): Promise<Row> {
  const image = await loadImage(path);
  const cpu0 = process.cpuUsage();
  const result = await runPrimitives(image, options, { workers, budget });
  const cpu = process.cpuUsage(cpu0);
  const { width, height } = result.list;
  const target = await resizeRgba(image, width, height);
  const ours = await renderRgba(result.list, { width, height }, target);
  const row: Row = {
    name: basename(path),
    size: `${width}x${height}`,
    ms: result.ms,
    cpu: (cpu.user + cpu.system) / 1e6,
    score: rmse(target, ours),
    engineScore: result.list.score ?? Number.NaN,
    ...(result.exhausted && { stoppedAt: result.list.shapes.length }),
  };
  if (baseline) {
    // Both tools get the identical working-size target: the Go tool's own (bilinear) resize would
    // give it a blurrier, easier target than ours, and its score would not be comparable.
    const input = join(dir, `target-${basename(path)}.png`);
    await sharp(target.data, { raw: { width, height, channels: 4 } })
      .png()
      .toFile(input);
    const out = join(dir, `go-${basename(path)}.png`);
    const n = String(options.count);
    const r = String(options.workSize);
    const args = ["-i", input, "-o", out, "-n", n, "-m", String(CLASSIC_CODE[options.shape]), "-r", r, "-s", r];
    const t0 = performance.now();
    await exec(baseline, [...args, "-a", String(options.alpha), "-j", String(workers)], { maxBuffer: 1 << 24 });
    const ms = performance.now() - t0;
    const go = await loadImage(out);
    row.go = { ms, score: rmse(target, await resizeRgba(go, width, height)) };
  }
  return row;
}

/**
 * Node and (with --browser) the in-plugin engine in Chromium on the identical working-size pixels:
 * times, the engine's score and the hash of each shape list (equal hashes = identical results).
 */
async function benchRuntimes(
  paths: string[],
  options: PrimitivesOptions,
  workers: number,
  budget: SearchBudget,
  flags: BenchFlags,
): Promise<void> {
  const images: RgbaImage[] = [];
  for (const path of paths) {
    const image = await loadImage(path);
    const size = workSizeOf(image.width, image.height, options.workSize);
    images.push(await resizeRgba(image, size.width, size.height));
  }
  const node = [];
  for (const image of images) node.push(await runPrimitives(image, options, { workers, budget }));
  const browser = flags.browser ? await runInBrowser(images, options, workers, budget) : [];
  if (!flags.json) {
    console.log(`machine: ${machineInfo()}; load average ${loadavg()[0].toFixed(2)}`);
    console.log(`task: ${options.count} × ${options.shape}, alpha ${options.alpha}, ${workers} workers each`);
  }
  for (const [i, path] of paths.entries()) {
    const runs = [{ runtime: "node", ...node[i] }, ...(browser[i] ? [{ runtime: "browser", ...browser[i] }] : [])];
    const lines = runs.map((r) => ({
      runtime: r.runtime,
      ms: Math.round(r.ms),
      score: r.list.score ?? Number.NaN,
      hash: shapeListHash(r.list),
      image: basename(path),
    }));
    if (flags.json) {
      for (const l of lines) console.log(JSON.stringify(l));
      continue;
    }
    const [n, b] = lines;
    const size = `${images[i].width}x${images[i].height}`;
    const side = b
      ? ` | browser ${(b.ms / 1000).toFixed(2)} s, score ${b.score.toFixed(5)} | browser/node ${(b.ms / n.ms).toFixed(2)}x, shapes ${b.hash === n.hash ? "identical" : "DIFFERENT"}`
      : "";
    console.log(
      `${n.image.padEnd(22)} ${size.padEnd(8)} node ${(n.ms / 1000).toFixed(2)} s, score ${n.score.toFixed(5)}${side}`,
    );
  }
}

function printRow(r: Row): void {
  const ours = `ours ${(r.ms / 1000).toFixed(2)} s (cpu ${r.cpu.toFixed(2)} s), score ${r.score.toFixed(5)} (engine ${r.engineScore.toFixed(5)})${r.stoppedAt === undefined ? "" : `, stopped at ${r.stoppedAt} shapes`}`;
  const go = r.go
    ? ` | go ${(r.go.ms / 1000).toFixed(2)} s, score ${r.go.score.toFixed(5)} | ${(r.go.ms / r.ms).toFixed(2)}x faster, score ${r.score <= r.go.score ? "equal or lower" : "HIGHER"}`
    : "";
  console.log(`${r.name.padEnd(22)} ${r.size.padEnd(8)} ${ours}${go}`);
}

/** The shared fixture when this checkout has it, plus generated images anyone can reproduce. */
async function defaultImages(dir: string): Promise<string[]> {
  const images = existsSync(FIXTURE) ? [resolve(FIXTURE)] : [];
  const generated: [string, RgbaImage][] = [
    ["generated-sunset.png", sunset(384, 256)],
    ["generated-blobs.png", blobs(256, 256)],
  ];
  for (const [name, img] of generated) {
    const path = join(dir, name);
    await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } })
      .png()
      .toFile(path);
    images.push(path);
  }
  return images;
}

/** Gradient sky, sun and two dark hills: large smooth areas and hard edges. */
function sunset(width: number, height: number): RgbaImage {
  return paint(width, height, (u, v) => {
    if (v > 0.62 + 0.25 * Math.abs(u - 0.3) ** 1.5 * 4 || v > 0.8 - 0.3 * Math.exp(-(((u - 0.8) / 0.15) ** 2)))
      return [35, 20, 25];
    if ((u - 0.55) ** 2 + (v - 0.5) ** 2 < 0.012) return [255, 235, 150];
    return [60 + 190 * v, 30 + 120 * v, 110 - 70 * v];
  });
}

/** Overlapping soft colour blobs on a light ground: many mid-sized features. */
function blobs(width: number, height: number): RgbaImage {
  const centres = [
    [0.2, 0.3, 0.15, 220, 60, 60],
    [0.7, 0.25, 0.2, 60, 140, 220],
    [0.45, 0.7, 0.25, 70, 190, 90],
    [0.85, 0.8, 0.12, 240, 200, 40],
    [0.15, 0.85, 0.1, 120, 50, 160],
  ];
  return paint(width, height, (u, v) => {
    let rgb = [235, 230, 220];
    for (const [cx, cy, r, cr, cg, cb] of centres) {
      const k = Math.exp(-(((u - cx) ** 2 + (v - cy) ** 2) / (r * r)) * 2);
      rgb = [rgb[0] * (1 - k) + cr * k, rgb[1] * (1 - k) + cg * k, rgb[2] * (1 - k) + cb * k];
    }
    return rgb;
  });
}

function paint(width: number, height: number, f: (u: number, v: number) => number[]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = f(x / width, y / height);
      data.set([r, g, b, 255], 4 * (y * width + x));
    }
  }
  return { width, height, data };
}
