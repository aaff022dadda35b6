// `stylize bench style --memory`: peak resident memory of a style job (one L-BFGS iteration, one
// scale, one style, random weights, CPU) per size, each in a fresh child process so the peaks do
// not mix, next to what the model in ./memory.ts estimates. Its constants come from this table.
import { execFile } from "node:child_process";
import { resourceUsage } from "node:process";
import { promisify } from "node:util";
import * as v from "valibot";
import { StyleOptionsSchema } from "../../shared/protocol";
import type { RgbaImage } from "../image";
import { runStyle } from "./engine";
import { estimateStyleMemory } from "./memory";

const exec = promisify(execFile);
const MiB = 2 ** 20;

export interface MemoryRow {
  size: number;
  peakMiB: number;
  estimateMiB: number;
  seconds: number;
}

/** In the parent: one child per size; `childArgs(size)` are the CLI arguments that run `memoryChild`. */
export async function benchMemory(
  sizes: number[],
  childArgs: (size: number) => string[],
  report: (r: MemoryRow) => void,
): Promise<void> {
  for (const size of sizes) {
    const { stdout } = await exec(process.execPath, [process.argv[1], ...childArgs(size)], {
      maxBuffer: 1 << 20,
    });
    const { peakMiB, seconds } = JSON.parse(stdout.trim().split("\n").at(-1)!) as MemoryRow;
    const est = estimateStyleMemory({ width: size, height: size, styleScale: 1, optimizer: "lbfgs", maskedTerms: 0 });
    report({ size, peakMiB, estimateMiB: Math.round(est / MiB), seconds });
  }
}

/** In the child: run the job and print its peak RSS as JSON (the parent reads the last line). */
export async function memoryChild(size: number): Promise<void> {
  const img = (): RgbaImage => {
    const data = new Uint8Array(size * size * 4);
    for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : (i * 37) % 251;
    return { width: size, height: size, data };
  };
  const options = v.parse(StyleOptionsSchema, { device: "cpu", scales: 1, iters: 1, previewEvery: 0, size });
  const t = performance.now();
  // No budget: this measures what the guard would refuse.
  await runStyle({ content: img(), styles: [img()] }, { options, weights: "random:0", memoryBudget: Infinity });
  const peakMiB = Math.round(resourceUsage().maxRSS / 1024); // maxRSS is in KiB
  process.stdout.write(`${JSON.stringify({ size, peakMiB, seconds: (performance.now() - t) / 1000 })}\n`);
}
