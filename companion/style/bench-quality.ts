// `stylize bench quality --weights <file>`: the default style job for content × style pairs at several
// sizes, with its cost in 512-px step equivalents (machine-independent), wall time, objective quality
// figures (./quality) and a contact sheet PNG (content, style, one result per size) to judge by eye.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import sharp, { type OverlayOptions } from "sharp";
import * as v from "valibot";
import { StyleOptionsSchema } from "../../shared/protocol";
import { UserError } from "../errors";
import { loadImage, type RgbaImage } from "../image";
import { machineInfo } from "../machine";
import { runStyle } from "./engine";
import { measureQuality } from "./quality";
import { StyleNet } from "./session";
import { loadVggWeights } from "./vgg-weights";

interface Flags {
  weights: string;
  content?: string;
  style?: string;
  sizes: string;
  out: string;
  iters?: string;
  detailIters?: string;
  device: "cpu" | "webgpu" | "cuda" | "auto";
  json?: boolean;
}

/** Default pairs from ../shared/fixtures (landscape, portrait, square contents), when that folder exists. */
const FIXTURES = resolve("../shared/fixtures");
const DEFAULT_PAIRS: [string, string][] = [
  ["tubingen.jpg", "starry_night.jpg"],
  ["the_scream.jpg", "starry_night.jpg"],
  ["pyramids.png", "the_scream.jpg"],
];

/** The cost unit: one loss + gradient evaluation of the job at 512 px longest side. */
const UNIT_SIDE = 512;
const CELL = 200;
const LABEL = 18;

export function registerQualityBench(bench: Command): void {
  bench
    .command("quality")
    .description("style engine: default job per content × style pair and size — cost, quality figures, contact sheet")
    .requiredOption("--weights <file>", "real VGG-19 weights (Keras notop .h5); random weights make no art")
    .option("--content <files>", "content images, comma-separated (each is paired with each --style)")
    .option("--style <files>", "style images, comma-separated")
    .option("--sizes <list>", "output sizes (longest side, px)", "256,512,1024")
    .option("--iters <n>", "override the default iterations (for tuning)")
    .option("--detail-iters <n>", "override the iterations each finer scale gets at least (High: 10)")
    .option("--out <file>", "contact sheet PNG", "test-artifacts/quality-sheet.png")
    .option(
      "--device <name>",
      "where the jobs run (auto, cpu, webgpu, cuda); the figures are measured on the CPU",
      "cpu",
    )
    .option("--json", "one JSON object per run on stdout")
    .action(async (f: Flags) => {
      try {
        await benchQuality(f);
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        process.stderr.write(`stylize bench quality: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}

function pairsOf(f: Flags): [string, string][] {
  const list = (s: string) =>
    s
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
  if (!f.content && !f.style) {
    if (!existsSync(FIXTURES))
      throw new UserError("bad-message", `give --content and --style (no default pictures: ${FIXTURES} is missing)`);
    return DEFAULT_PAIRS.map(([c, s]) => [join(FIXTURES, c), join(FIXTURES, s)]);
  }
  if (!f.content || !f.style) throw new UserError("bad-message", "give both --content and --style");
  return list(f.content).flatMap((c) => list(f.style!).map((s): [string, string] => [c, s]));
}

async function benchQuality(f: Flags): Promise<void> {
  const sizes = f.sizes.split(",").map(Number);
  if (sizes.some((s) => !Number.isInteger(s) || s < 32 || s > 2048))
    throw new UserError("bad-message", `--sizes: whole numbers from 32 to 2048 (got ${f.sizes})`);
  const pairs = pairsOf(f);
  const log = (s: string) => !f.json && process.stdout.write(`${s}\n`);
  const weights = await loadVggWeights(f.weights);
  if (weights.random) log("warning: random weights — the figures mean nothing; pass the real VGG-19 .h5");
  const number = (s?: string) => (s === undefined ? undefined : Number(s));
  const [iters, detailIters] = [number(f.iters), number(f.detailIters)];
  const parsed = sizes.map((size) =>
    v.safeParse(StyleOptionsSchema, { device: f.device, previewEvery: 0, size, iters, detailIters }),
  );
  const jobs = parsed.map((p) => {
    if (!p.success) throw new UserError("bad-message", `--iters / --detail-iters / --device: ${p.issues[0].message}`);
    return p.output;
  });
  log("stylize bench quality: the default style job per pair and size");
  log(`machine: ${machineInfo()}; weights ${basename(f.weights)}`);
  log(
    `cost = loss+gradient evaluations weighted by pixels, in units of one ${UNIT_SIDE} px evaluation of the same picture`,
  );
  log("subject = SSIM of 128 px luminance thumbnails vs the content (1 = same shapes); content = relu4_2");
  log(
    "distance / |content features|; style = Gram distance to the style / the content's (1 = unstyled, 0 = the style)",
  );

  const out = resolve(f.out);
  await mkdir(dirname(out), { recursive: true });
  const rows: { content: RgbaImage; style: RgbaImage; names: string[]; results: RgbaImage[] }[] = [];
  for (const [contentPath, stylePath] of pairs) {
    const row = {
      content: await loadImage(contentPath, { maxSide: Math.max(...sizes), enlarge: true }),
      style: await loadImage(stylePath, { maxSide: Math.max(...sizes), enlarge: true }),
      names: [basename(contentPath), basename(stylePath)],
      results: [] as RgbaImage[],
    };
    for (const o of jobs) {
      const size = o.size;
      const content = await loadImage(contentPath, { maxSide: size, enlarge: true });
      const style = await loadImage(stylePath, { maxSide: size, enlarge: true });
      const r = await runStyle({ content, styles: [style] }, { options: o, weights: f.weights });
      const unitArea = (r.image.width * r.image.height * UNIT_SIDE ** 2) / Math.max(r.image.width, r.image.height) ** 2;
      const net = await StyleNet.open(weights, { pooling: o.pooling, masked: [false], device: "cpu" });
      const q = await measureQuality(net, r.image, content, style).finally(() => net.release());
      const summary = {
        content: row.names[0],
        style: row.names[1],
        size,
        width: r.image.width,
        height: r.image.height,
        iters: r.iters,
        evals: r.evals,
        stepEquivalents: round(r.scales.reduce((a, s) => a + s.evals * s.width * s.height, 0) / unitArea, 1),
        seconds: round(r.ms / 1000, 1),
        device: r.device,
        ...(r.fallback ? { fallback: r.fallback } : {}),
        scales: r.scales.map((s) => `${Math.max(s.width, s.height)}px:${s.iters}it/${s.evals}ev`).join(" "),
        subject: round(q.subject, 3),
        contentDistance: round(q.content, 3),
        styleDistance: round(q.style, 3),
      };
      if (f.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      log(
        `${`${summary.content} × ${summary.style}`.padEnd(36)} ${String(size).padStart(4)} px  ` +
          `${String(summary.stepEquivalents).padStart(5)} step-eq (${r.evals} evals, ${summary.seconds} s on ${r.device})  ` +
          `subject ${summary.subject.toFixed(3)}  content ${summary.contentDistance.toFixed(3)}  style ${summary.styleDistance.toFixed(3)}` +
          `  [${summary.scales}]`,
      );
      row.results.push(r.image);
    }
    rows.push(row);
    await writeFile(out, await contactSheet(rows, sizes)); // after each pair: a long run can be judged early
  }
  log(`contact sheet: ${out}`);
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** One row per pair: content, style, then the result at each size, each fitted into a square cell. */
async function contactSheet(
  rows: { content: RgbaImage; style: RgbaImage; names: string[]; results: RgbaImage[] }[],
  sizes: number[],
): Promise<Buffer> {
  const cols = 2 + sizes.length;
  const width = cols * CELL;
  const height = rows.length * (CELL + LABEL);
  const layers: OverlayOptions[] = [];
  for (const [ri, row] of rows.entries()) {
    const cells = [row.content, row.style, ...row.results];
    const labels = [row.names[0], row.names[1], ...sizes.map((s) => `${s} px`)];
    for (const [ci, img] of cells.entries()) {
      const input = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } })
        .resize(CELL, CELL, { fit: "contain", background: "#ffffff" })
        .png()
        .toBuffer();
      const top = ri * (CELL + LABEL);
      layers.push({ input, left: ci * CELL, top });
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${CELL}" height="${LABEL}"><text x="${CELL / 2}" y="${LABEL - 4}" font-family="sans-serif" font-size="13" text-anchor="middle">${escapeXml(labels[ci])}</text></svg>`;
      layers.push({ input: Buffer.from(svg), left: ci * CELL, top: top + CELL });
    }
  }
  return sharp({ create: { width, height, channels: 3, background: "#ffffff" } })
    .composite(layers)
    .png()
    .toBuffer();
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
