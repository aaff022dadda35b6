// `stylize bench style`: milliseconds per optimisation step — one loss + gradient evaluation of
// VGG-19 up to conv5_1 — at 256 and 512 px on every available device; optionally the same step in
// PyTorch for comparison, and the wall time of whole default (512 px) and High (1024 px) jobs. Random
// weights: speed does not depend on their values. A row is labelled with where it really ran: a GPU
// that fell back to the CPU is reported as the CPU, with the reason.
import { cpus, loadavg } from "node:os";
import { type Command, Option } from "commander";
import * as ort from "onnxruntime-node";
import * as v from "valibot";
import { fallbackNote } from "../../shared/devices";
import { StyleOptionsSchema } from "../../shared/protocol";
import type { RgbaImage } from "../image";
import { machineInfo } from "../machine";
import { benchMemory, memoryChild } from "./bench-memory";
import { SGEMM_SHAPE, sgemmGflops } from "./bench-sgemm";
import { stepFlops } from "../../shared/style/webgpu/sizes";
import { benchTorch } from "./bench-torch";
import { type DeviceName, listDevices } from "./devices";
import { runStyle } from "./engine";
import { snap } from "../../shared/style/plan";
import { type Convolutions, openStyleNet } from "./session";
import type { Profile } from "../../shared/style/webgpu/net";
import { DEFAULT_HISTORY, lbfgsVectors } from "../../shared/style/optim/lbfgs";
import { agreement, agreementLine, agrees, optimiserMs, stepInputs } from "./bench-step";
import { randomVggWeights, VGG19_CONVS, type VggWeights } from "./vgg-weights";

interface Flags {
  sizes: string;
  steps: string;
  device?: DeviceName;
  job?: boolean;
  pytorch?: boolean;
  python: string;
  json?: boolean;
  memory?: boolean;
  memoryChild?: string;
  profile?: boolean;
  check?: boolean;
  convolutions?: Convolutions;
}

interface Row {
  /** onnx: ONNX Runtime (CPU, CUDA); webgpu: the project's WebGPU engine. */
  engine: "onnx" | "webgpu" | "pytorch";
  device: string;
  /** The WebGPU adapter's name. */
  adapter?: string;
  /** WebGPU: the tiles and convolution method its trial chose. */
  kernels?: string;
  /** Why a GPU row ran on the CPU instead. */
  fallback?: string;
  size: number;
  msPerStep: number;
  cpuMsPerStep: number;
  steps: number;
  /** WebGPU: the image and its gradient stayed on the GPU, as in a job (else uploaded and read back). */
  onDevice?: boolean;
  /** WebGPU: L-BFGS's own work per step with its vectors on the GPU (ms). */
  optimiserMs?: number;
}

export function registerStyleBench(bench: Command): void {
  bench
    .command("style")
    .description("style engine: ms per optimisation step per device (optionally vs PyTorch, and a whole job)")
    .option("--sizes <list>", "image sizes (square, px)", "256,512")
    .option("--steps <n>", "timed steps per size (after one warm-up step)", "3")
    .option("--device <name>", "only this device (default: every available one)")
    .option("--pytorch", "also time the same step in PyTorch (CUDA when torch sees a GPU, else CPU) for comparison")
    .option("--python <exe>", "the Python with torch installed, for --pytorch", "python3")
    .option("--job", "also time whole jobs: default options (512 px) and High (1024 px), on --device (default cpu)")
    .option("--memory", "measure peak memory per size instead of speed (one child process per size)")
    .addOption(new Option("--memory-child <size>").hideHelp())
    .option("--profile", "WebGPU: also time each kernel of one evaluation (the slowest first)")
    .option("--check", "also compare each GPU's loss and gradient with the CPU's (both poolings, sizes up to 1024)")
    .addOption(
      new Option(
        "--convolutions <how>",
        "WebGPU: every convolution direct or by Winograd, instead of the trial's choice",
      )
        .choices(["auto", "direct", "winograd"])
        .default("auto"),
    )
    .option("--json", "one JSON object per measurement on stdout")
    .action(benchStyle);
}

async function benchStyle(f: Flags): Promise<void> {
  if (f.memoryChild) return memoryChild(snap(Number(f.memoryChild)));
  const sizes = f.sizes.split(",").map((s) => snap(Number(s)));
  const steps = Math.max(1, Number(f.steps) || 3);
  const log = (s: string) => !f.json && process.stdout.write(`${s}\n`);
  if (f.memory) return benchStyleMemory(sizes, f.json === true, log);
  let kernels: string | undefined;
  const report = (r: Row) => {
    if (f.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else {
      if (r.kernels && r.kernels !== kernels) log(`webgpu: ${r.kernels}`);
      kernels = r.kernels;
      log(
        `${r.engine.padEnd(8)}${r.device.padEnd(7)}${String(r.size).padStart(4)} px ${String(r.msPerStep).padStart(7)} ms/step` +
          `  (median of ${r.steps}; ${r.cpuMsPerStep} cpu-ms/step)${r.adapter ? ` on ${r.adapter}` : ""}` +
          `${r.fallback ? ` — ${fallbackNote(r.fallback)}` : ""}` +
          (r.optimiserMs === undefined
            ? ""
            : `\n        L-BFGS's own work per step at ${r.size} px (vectors on the GPU): ${r.optimiserMs.toFixed(1)} ms`),
      );
    }
  };
  log("stylize bench style: ms per optimisation step (one loss + gradient evaluation, VGG-19 to conv5_1)");
  log(`machine: ${machineInfo()}, load average ${loadavg()[0].toFixed(1)}`);
  log(`onnxruntime-node ${ort.env.versions.common}`);
  log("weights: random (the timing does not depend on their values); max pooling, one style");
  log("cpu-ms = CPU time of all threads per step: steadier than wall time on a busy machine");

  const weights = randomVggWeights(0);
  const cpuMs = new Map<number, number>();
  const measured: DeviceName[] = [];
  for (const d of await listDevices()) {
    if (f.device && d.name !== f.device) continue;
    if (!d.available) {
      log(`${d.name}: skipped (${d.reason ?? "unavailable"})`);
      continue;
    }
    if (d.software && !f.device) {
      log(`${d.name}: skipped (a software adapter, ${d.adapter}: ask for it with --device ${d.name})`);
      continue;
    }
    measured.push(d.name);
    for (const size of sizes) {
      const row = await timeStep(weights, d.name, size, steps, f.convolutions, f.profile ? log : undefined);
      report(row);
      if (row.device === "cpu" && d.name === "cpu") cpuMs.set(size, row.msPerStep);
    }
  }
  if (f.check)
    await checkAgainstCpu(
      measured.filter((d) => d !== "cpu"),
      sizes,
      weights,
      f.json === true,
      log,
      f.convolutions,
    );
  // The optimiser's vector work where a CPU job does it (a GPU job's is in its rows).
  for (const size of sizes.filter((s) => s <= 2048)) {
    const ms = await optimiserMs(size);
    if (f.json) process.stdout.write(`${JSON.stringify({ optimiser: "lbfgs", size, msPerStep: ms })}\n`);
    log(`L-BFGS's own work per step at ${size} px (host, JavaScript): ${ms.toFixed(1)} ms`);
  }
  if (cpuMs.size) {
    // The CPU path's yardstick: the step's FLOP rate against this machine's own SGEMM rate.
    const sgemm = await sgemmGflops();
    log(`cpu SGEMM rate here: ${sgemm.toFixed(0)} GFLOP/s (ONNX Runtime MatMul ${SGEMM_SHAPE}, same threads)`);
    for (const [size, ms] of cpuMs) {
      const flops = stepFlops(VGG19_CONVS, size, size);
      const gflops = flops / ms / 1e6;
      const ratio = gflops / sgemm;
      if (f.json)
        process.stdout.write(
          `${JSON.stringify({ engine: "onnx", device: "cpu", size, gflops, sgemmGflops: sgemm, ratio })}\n`,
        );
      log(
        `  at ${size} px a step does ${(flops / 1e9).toFixed(0)} GFLOP: ${gflops.toFixed(0)} GFLOP/s, ${ratio.toFixed(2)}× SGEMM`,
      );
    }
  }
  if (f.pytorch) {
    const torch = await benchTorch(sizes, steps, cpus().length, f.python);
    if ("skipped" in torch) log(`pytorch: skipped (${torch.skipped})`);
    else {
      log(`pytorch ${torch[0]?.torch ?? ""}, autograd on ${torch[0]?.device ?? "cpu"}, ${cpus().length} CPU threads:`);
      for (const t of torch) {
        report({
          engine: "pytorch",
          device: t.device,
          size: t.size,
          msPerStep: t.msPerStep,
          cpuMsPerStep: t.cpuMsPerStep,
          steps,
        });
        const ours = cpuMs.get(t.size);
        if (ours)
          log(`  at ${t.size} px ONNX (CPU) takes ${Math.round((100 * ours) / t.msPerStep)}% of PyTorch's time`);
      }
    }
  }
  if (f.job) {
    const device = f.device ?? "cpu";
    for (const high of [false, true]) {
      await benchJob(device, high, false, f.json === true, log);
      // What keeping the optimiser's vectors on the GPU saves: the same job with them on the host.
      if (device === "webgpu") await benchJob(device, high, true, f.json === true, log);
    }
  }
}

/** `--check`: the GPU devices just timed against the CPU, at each size up to 1024 px (the CPU is slow beyond). */
async function checkAgainstCpu(
  gpus: DeviceName[],
  sizes: number[],
  weights: VggWeights,
  json: boolean,
  log: (s: string) => void,
  convolutions?: Convolutions,
) {
  let checked = 0;
  for (const device of gpus) {
    for (const size of sizes.filter((s) => s <= 1024))
      for (const pooling of ["max", "avg"] as const) {
        const a = await agreement(weights, device, size, pooling, convolutions);
        checked++;
        if (json) process.stdout.write(`${JSON.stringify({ check: a })}\n`);
        log(agreementLine(a));
        if (!agrees(a)) process.exitCode = 1; // a script running the check must see it fail
      }
  }
  if (!checked) {
    log("--check: no GPU device to compare with the CPU");
    process.exitCode = 1;
  }
}

async function timeStep(
  weights: ReturnType<typeof randomVggWeights>,
  device: DeviceName,
  size: number,
  steps: number,
  convolutions?: Convolutions,
  profileTo?: (line: string) => void,
): Promise<Row> {
  const net = await openStyleNet(weights, { pooling: "max", masked: [false], device, convolutions });
  const { x, targets, lw } = await stepInputs(net, size);
  // On a GPU, as a job runs it: the loss's buffers, then the optimiser's vectors, where the image
  // and its gradient stay (see LossNet.onDevice).
  await net.prepare?.(size, size, targets, lw);
  const gpu = await net.onDevice?.(3 * size * size, DEFAULT_HISTORY, lbfgsVectors()); // optimiserMs's L-BFGS
  try {
    let evaluate: () => Promise<unknown> = () => net.evaluate(x, size, size, targets, lw);
    if (gpu) {
      const [xg, grad] = [gpu.ops.fromHost(x), gpu.ops.take()];
      evaluate = () => gpu.evaluate(xg, grad, size, size, targets, lw);
    }
    await evaluate(); // warm-up: allocations, kernel selection
    const times: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      await evaluate();
      times.push(performance.now() - t);
    }
    const cpu = process.cpuUsage(cpu0);
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(times.length / 2)];
    const profile = profileTo && (await net.profile?.(x, size, size, targets, lw));
    if (profile) printProfile(profile, size, ms, profileTo!);
    return {
      engine: device === "webgpu" && !net.fallback ? "webgpu" : "onnx",
      device: net.device,
      adapter: net.adapter,
      kernels: net.kernels,
      fallback: net.fallback,
      size,
      msPerStep: ms < 100 ? Math.round(ms * 10) / 10 : Math.round(ms),
      cpuMsPerStep: Math.round((cpu.user + cpu.system) / 1000 / steps),
      steps,
      onDevice: gpu !== undefined,
      optimiserMs: gpu && (await optimiserMs(size, gpu.ops)),
    };
  } finally {
    gpu?.dispose();
    await net.release();
  }
}

/** The kernels of one evaluation grouped by what they compute, slowest first, with their share. */
function printProfile({ timing, kernels }: Profile, size: number, stepMs: number, log: (s: string) => void) {
  const byLabel = new Map<string, number>();
  for (const k of kernels) byLabel.set(k.label, (byLabel.get(k.label) ?? 0) + k.ms);
  const total = kernels.reduce((a, k) => a + k.ms, 0);
  const how = timing === "gpu" ? "GPU time (timestamps), one submit" : "wall time with one submit each";
  log(`  profile at ${size} px: ${kernels.length} steps, ${total.toFixed(timing === "gpu" ? 2 : 1)} ms, ${how}`);
  // What the GPU does not spend in kernels is launch gaps, the round trip and host work.
  if (timing === "gpu")
    log(
      `    the GPU is busy ${((100 * total) / stepMs).toFixed(0)} % of the ${stepMs.toFixed(1)} ms step (median above)`,
    );
  for (const [label, ms] of [...byLabel].sort((a, b) => b[1] - a[1]).slice(0, 16))
    log(`    ${label.padEnd(28)} ${ms.toFixed(2).padStart(8)} ms  ${((100 * ms) / total).toFixed(1).padStart(5)} %`);
}

async function benchStyleMemory(sizes: number[], json: boolean, log: (s: string) => void): Promise<void> {
  log("stylize bench style --memory: peak resident memory of a style job (1 L-BFGS iteration, 1 scale, 1 style)");
  log(`machine: ${machineInfo()}; random weights, CPU; each size in a fresh process`);
  log("estimate = the model the companion uses to refuse jobs that would not fit (companion/style/memory.ts)");
  await benchMemory(
    sizes,
    (size) => ["bench", "style", "--memory-child", String(size)],
    (r) => {
      if (json) process.stdout.write(`${JSON.stringify({ memory: true, ...r })}\n`);
      else
        log(
          `${String(r.size).padStart(5)} px  peak ${String(r.peakMiB).padStart(6)} MiB  estimate ${String(r.estimateMiB).padStart(6)} MiB` +
            `  (${r.seconds.toFixed(1)} s)`,
        );
    },
  );
}

/**
 * A whole job (weights, set-up, every scale) with the default options, or the plugin's High preset
 * (1024 px, 112 iterations, 10 per finer scale), on generated pictures.
 */
async function benchJob(
  device: DeviceName,
  high: boolean,
  vectorsOnHost: boolean,
  json: boolean,
  log: (s: string) => void,
) {
  const preset = high ? { size: 1024, iters: 112, detailIters: 10 } : {};
  const options = v.parse(StyleOptionsSchema, { device, previewEvery: 0, ...preset });
  const content = pattern(options.size, (x, y) => [x / 2, y / 2, 128 + 100 * Math.sin(x / 20)]);
  const style = pattern(options.size, (x, y) => [128 + 120 * Math.sin((x + y) / 7), 90, 128 + 120 * Math.cos(y / 5)]);
  const cpu0 = process.cpuUsage();
  const notes: string[] = [];
  const r = await runStyle(
    { content, styles: [style] },
    { options, weights: "random:0", onNote: (n) => notes.push(n), vectorsOnHost },
  );
  const cpu = process.cpuUsage(cpu0);
  const summary = {
    job: true,
    size: options.size,
    scales: options.scales,
    iters: r.iters,
    evals: r.evals,
    ms: Math.round(r.ms),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    device: r.device,
    fallback: r.fallback,
    preset: high ? "high" : "default",
    optimiserOnGpu: r.scales.every((sc) => sc.vectors === "gpu"),
    vectorsOnHost,
  };
  if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    for (const n of notes) log(`  note: ${n}`);
    log(
      `whole job, ${high ? "High" : "default options"} (${options.size} px, ${r.scales.length} scales, ${r.iters} ${options.optimizer} iterations): ` +
        `${(r.ms / 1000).toFixed(2)} s on ${r.device}` +
        `${summary.optimiserOnGpu ? " (optimiser too)" : vectorsOnHost ? " (optimiser in JavaScript, for comparison)" : ""}, ` +
        `${r.evals} loss+gradient evaluations, ${(summary.cpuMs / 1000).toFixed(1)} cpu-s` +
        `${r.fallback ? ` — ${fallbackNote(r.fallback)}` : ""}`,
    );
  }
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
