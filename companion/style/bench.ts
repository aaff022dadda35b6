// `stylize bench style`: milliseconds per optimisation step — one loss + gradient evaluation of
// VGG-19 up to conv5_1 — at 256 and 512 px on every available device, and optionally the wall time
// of a whole default job. Random weights: speed does not depend on their values.
import { cpus, loadavg } from "node:os";
import type { Command } from "commander";
import * as ort from "onnxruntime-node";
import * as v from "valibot";
import { StyleOptionsSchema } from "../../shared/protocol";
import type { RgbaImage } from "../image";
import { type DeviceName, listDevices } from "./devices";
import { runStyle } from "./engine";
import { noiseNetwork } from "./pixels";
import { snap } from "./plan";
import { StyleNet } from "./session";
import { randomVggWeights } from "./vgg-weights";

interface Flags {
  sizes: string;
  steps: string;
  device?: DeviceName;
  job?: boolean;
  json?: boolean;
}

export function registerStyleBench(bench: Command): void {
  bench
    .command("style")
    .description("style engine: ms per optimisation step per device (and optionally a whole 512 px job)")
    .option("--sizes <list>", "image sizes (square, px)", "256,512")
    .option("--steps <n>", "timed steps per size (after one warm-up step)", "3")
    .option("--device <name>", "only this device (default: every available one)")
    .option("--job", "also time a whole job with the default options at 512 px (CPU)")
    .option("--json", "one JSON object per measurement on stdout")
    .action(benchStyle);
}

async function benchStyle(f: Flags): Promise<void> {
  const sizes = f.sizes.split(",").map((s) => snap(Number(s)));
  const steps = Math.max(1, Number(f.steps) || 3);
  const devices = (await listDevices()).filter((d) => (f.device ? d.name === f.device : true));
  const log = (s: string) => !f.json && process.stdout.write(`${s}\n`);
  log("stylize bench style: ms per optimisation step (one loss + gradient evaluation, VGG-19 to conv5_1)");
  log(`machine: ${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, load ${loadavg()[0].toFixed(1)}`);
  log(`onnxruntime-node ${ort.env.versions.common}, Node ${process.version}`);
  log("weights: random (the timing does not depend on their values); max pooling, one style");
  const weights = randomVggWeights(0);
  for (const d of devices) {
    if (!d.available) {
      log(`${d.name}: skipped (${d.reason ?? "unavailable"})`);
      continue;
    }
    for (const size of sizes) {
      const net = await StyleNet.open(weights, { pooling: "max", masked: [false], device: d.name });
      try {
        const x = noiseNetwork(size, size, 1);
        const targets = {
          content: (await net.features(noiseNetwork(size, size, 2), size, size)).content,
          grams: [(await net.features(noiseNetwork(size, size, 3), size, size)).grams],
          masks: [undefined],
        };
        const lw = { content: 5, tv: 1e-3, style: [100] };
        await net.evaluate(x, size, size, targets, lw); // warm-up: allocations, kernel selection
        const times: number[] = [];
        for (let i = 0; i < steps; i++) {
          const t = performance.now();
          await net.evaluate(x, size, size, targets, lw);
          times.push(performance.now() - t);
        }
        times.sort((a, b) => a - b);
        const median = times[Math.floor(times.length / 2)];
        if (f.json)
          process.stdout.write(
            `${JSON.stringify({ device: net.device, size, msPerStep: Math.round(median), steps })}\n`,
          );
        else
          log(
            `${net.device.padEnd(7)} ${String(size).padStart(4)} px  ${Math.round(median)} ms/step (median of ${steps}; min ${Math.round(times[0])})`,
          );
      } finally {
        await net.release();
      }
    }
  }
  if (f.job) await benchJob(f.json === true, log);
}

/** A whole job with the default options (what a designer gets) on generated 512 px images. */
async function benchJob(json: boolean, log: (s: string) => void) {
  const options = v.parse(StyleOptionsSchema, { device: "cpu", previewEvery: 0 });
  const content = pattern(options.size, (x, y) => [x / 2, y / 2, 128 + 100 * Math.sin(x / 20)]);
  const style = pattern(options.size, (x, y) => [128 + 120 * Math.sin((x + y) / 7), 90, 128 + 120 * Math.cos(y / 5)]);
  const r = await runStyle({ content, styles: [style] }, { options, weights: "random:0" });
  const summary = {
    job: true,
    size: options.size,
    scales: options.scales,
    iters: r.iters,
    evals: r.evals,
    ms: Math.round(r.ms),
    device: r.device,
  };
  if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else
    log(
      `whole job, default options (${options.size} px, ${options.scales} scales, ${r.iters} iterations, ${options.optimizer}): ` +
        `${(r.ms / 1000).toFixed(1)} s on ${r.device} (${r.evals} loss+gradient evaluations)`,
    );
}

function pattern(size: number, rgb: (x: number, y: number) => number[]): RgbaImage {
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const c = rgb(x, y);
      data.set(
        [c[0], c[1], c[2], 255].map((v) => Math.max(0, Math.min(255, v))),
        (y * size + x) * 4,
      );
    }
  return { width: size, height: size, data };
}
