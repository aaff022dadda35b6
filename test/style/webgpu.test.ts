// The WebGPU engine (shared/style/webgpu) against the CPU engine (ONNX Runtime) and tfjs autodiff,
// on SwiftShader: features, each loss term and its gradient, both poolings, masks; then the
// companion around it: tile trial, device choice (never a software adapter for auto), a GPU that
// fails mid-job, a size the device cannot hold.
import { HAVE_SWIFTSHADER } from "./swiftshader"; // first: it points Vulkan at SwiftShader
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as v from "valibot";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { StyleOptionsSchema } from "../../shared/protocol";
import type { LossWeights, Targets } from "../../shared/style/vgg";
import {
  CONV_BACKWARD,
  CONV_FORWARD,
  type Dispatch,
  FEW_ROWS,
  gramBackwardSpec,
  gramSlices,
  gramSpec,
  SQUARE,
  sharedBytesOf,
  threadsOf,
  type Tiles,
} from "../../shared/style/webgpu/gemm";
import {
  fixedTilesComputeRightly,
  gemmComputesRightly,
  splitConvComputesRightly,
  tilesComputeRightly,
  winogradConvComputesRightly,
} from "../../shared/style/webgpu/tile-check";
import { winogradConv } from "../../shared/style/webgpu/winograd";
import { convSlices, directConv } from "../../shared/style/webgpu/direct-conv";
import { evaluationTimeoutMs, GpuError, TIMEOUT_MS } from "../../shared/style/webgpu/limits";
import { WebGpuStyleNet } from "../../shared/style/webgpu/net";
import { GpuVectors } from "../../shared/style/webgpu/vectors";
import { chooseTiles, decideWinograd, SMALL_TRIAL, TILE_CANDIDATES } from "../../shared/style/webgpu/tiles";
import { AGREE_WITHIN, agreement, agreementLine } from "../../companion/style/bench-step";
import { listDevices, pickDevice } from "../../companion/style/devices";
import { runStyle } from "../../companion/style/engine";
import { styleLayerScales } from "../../companion/style/graph/loss";
import { openStyleNet, StyleNet } from "../../companion/style/session";
import { narrowedConvs, randomVggWeights } from "../../companion/style/vgg-weights";
import { openWebGpu } from "../../companion/style/webgpu-device";
import { checkGpuSize, warmWebGpu } from "../../companion/style/webgpu-net";
import type { RgbaImage } from "../../companion/image";
import { NARROW, ONLY, randomImage } from "./narrow";
import { relativeError, tfLossAndGrad } from "./tf-reference";

const H = 64; // 2048 pixels: relu1_1's Gram is split into two slices
const W = 32;
const TILES = TILE_CANDIDATES[0];

beforeAll(() => {
  process.env.STYLIZE_CACHE_DIR = mkdtempSync(join(tmpdir(), "stylize-webgpu-"));
});

describe.skipIf(!HAVE_SWIFTSHADER)("WebGPU engine vs the CPU engine (SwiftShader)", () => {
  const weights = randomVggWeights(7, NARROW);
  for (const pooling of ["max", "avg"] as const) {
    describe(`${pooling} pooling`, () => {
      let cpu: StyleNet;
      let gpu: WebGpuStyleNet;
      let targets: Targets;
      const x = randomImage(3 * H * W, 4);

      beforeAll(async () => {
        cpu = await StyleNet.open(weights, { pooling, masked: [false, true], device: "cpu" });
        const { device } = await openWebGpu();
        gpu = WebGpuStyleNet.create(device, weights.convs, { pooling, tiles: TILES });
        const content = await cpu.features(randomImage(3 * H * W, 1), H, W);
        const style0 = await cpu.features(randomImage(3 * H * W, 2), H, W);
        const style1 = await cpu.features(randomImage(3 * H * W, 3), H, W);
        const mask = Float32Array.from({ length: H * W }, (_, i) => (i % W) / (W - 1)); // a soft ramp
        targets = {
          content: content.content,
          grams: [style0.grams, style1.grams],
          masks: [undefined, mask],
          styleScales: [styleLayerScales(style0.grams, content.grams), styleLayerScales(style1.grams, content.grams)],
        };
      }, 120_000);

      afterAll(async () => {
        gpu?.dispose();
        await cpu?.dispose();
      });

      it("features: relu4_2 and the five Grams", async () => {
        expect(gramSlices(8, H * W, 64, 16).slices).toBe(2); // the split-pixel Gram path runs here
        const img = randomImage(3 * H * W, 9);
        const [a, b] = [await cpu.features(img, H, W), await gpu.features(img, H, W)];
        expect(relativeError(b.content, a.content)).toBeLessThan(1e-3);
        for (const [l, g] of b.grams.entries()) expect(relativeError(g, a.grams[l])).toBeLessThan(1e-3);
      });

      const cases: [string, LossWeights][] = [
        ...Object.entries(ONLY),
        ["all terms", { content: 2, tv: 0.5, style: [300, 200] }],
      ];
      for (const [term, lw] of cases) {
        it(`${term}: loss and gradient`, async () => {
          const [a, b] = [await cpu.evaluate(x, H, W, targets, lw), await gpu.evaluate(x, H, W, targets, lw)];
          expect(b.loss).toBeGreaterThan(0);
          expect(Math.abs(b.loss - a.loss) / a.loss).toBeLessThan(1e-3);
          for (const k of Object.keys(a.terms))
            expect(b.terms[k]).toBeCloseTo(a.terms[k], 3 - Math.ceil(Math.log10(Math.abs(a.terms[k]) + 1e-9)));
          expect(relativeError(b.grad, a.grad)).toBeLessThan(1e-3);
        });
      }

      it("profile names every kernel of an evaluation", async () => {
        const { timing, kernels } = await gpu.profile(x, H, W, targets, { content: 2, tv: 0.5, style: [300, 200] });
        // SwiftShader offers timestamps, and the companion's device asks for them.
        expect(timing).toBe("gpu");
        const labels = new Set(kernels.map((st) => st.label));
        for (const want of ["block1_conv1 forward", "block1_conv1 backward", "gram relu1_1", "content loss", "tv loss"])
          expect(labels).toContain(want);
        expect(kernels.every((st) => st.ms >= 0)).toBe(true);
        // Every dispatch did work that took time on the (CPU-emulated) GPU: no slot left unwritten.
        const byLabel = (l: string) => kernels.filter((k) => k.label === l).reduce((a, k) => a + k.ms, 0);
        for (const l of ["block1_conv1 forward", "block1_conv1 backward", "gram relu1_1"])
          expect(byLabel(l)).toBeGreaterThan(0);
        // The largest convolutions outweigh the smallest reduction.
        expect(byLabel("block1_conv2 forward")).toBeGreaterThan(byLabel("tv loss"));
      });

      it('a loss that is not a number is the GPU\'s error ("wrong"), on either path', async () => {
        const content = targets.content.slice();
        content[5] = Number.NaN;
        const bad = { ...targets, content };
        const lw = { content: 1, tv: 0, style: [1, 1] };
        const wrong = { name: "GpuError", kind: "wrong" };
        await expect(gpu.evaluate(x, H, W, bad, lw)).rejects.toMatchObject(wrong);
        const ops = await GpuVectors.create((await openWebGpu()).device, x.length, 1, 2);
        try {
          await expect(gpu.evaluateOnGpu(ops.fromHost(x), ops.take(), H, W, bad, lw)).rejects.toMatchObject(wrong);
        } finally {
          ops.dispose();
        }
        // The net is still usable with finite targets.
        expect(Number.isFinite((await gpu.evaluate(x, H, W, targets, lw)).loss)).toBe(true);
      });

      it("agrees with tfjs autodiff too (all terms)", async () => {
        const lw = { content: 2, tv: 0.5, style: [300, 200] };
        const ours = await gpu.evaluate(x, H, W, targets, lw);
        const ref = await tfLossAndGrad(x, {
          convs: weights.convs,
          pooling,
          h: H,
          w: W,
          contentTarget: targets.content,
          ...targets,
          weights: lw,
        });
        expect(Math.abs(ours.loss - ref.loss) / ref.loss).toBeLessThan(1e-3);
        expect(relativeError(ours.grad, ref.grad)).toBeLessThan(1e-3);
      }, 120_000);

      it("Winograd convolutions give the direct ones' features, loss and gradient (all terms, a mask)", async () => {
        const { device } = await openWebGpu();
        const wino = WebGpuStyleNet.create(device, weights.convs, {
          pooling,
          tiles: TILES,
          winograd: { wide: true, deep: true },
        });
        try {
          const img = randomImage(3 * H * W, 9);
          const [a, b] = [await gpu.features(img, H, W), await wino.features(img, H, W)];
          expect(relativeError(b.content, a.content)).toBeLessThan(1e-5);
          for (const [l, g] of b.grams.entries()) expect(relativeError(g, a.grams[l])).toBeLessThan(1e-5);
          const lw = { content: 2, tv: 0.5, style: [300, 200] };
          const [d, w] = [await gpu.evaluate(x, H, W, targets, lw), await wino.evaluate(x, H, W, targets, lw)];
          expect(Math.abs(w.loss - d.loss) / d.loss).toBeLessThan(1e-5);
          expect(relativeError(w.grad, d.grad)).toBeLessThan(1e-5);
          // Every convolution but the image's own ran by Winograd: its transforms are in the profile.
          const { kernels } = await wino.profile(x, H, W, targets, lw);
          const convs = kernels.filter((k) => /block\d_conv\d (forward|backward)/.test(k.label));
          expect(convs.filter((k) => k.label === "block2_conv1 forward")).toHaveLength(3);
          expect(convs.filter((k) => k.label === "block1_conv1 forward")).toHaveLength(1);
          expect(convs.filter((k) => k.label === "block2_conv1 backward")).toHaveLength(3); // the gradient too
          expect(convs.filter((k) => k.label === "block1_conv1 backward")).toHaveLength(1);
        } finally {
          wino.dispose();
        }
      }, 120_000);
    });
  }

  it("128-channel layers: Grams of several tiles (computed above the diagonal, mirrored) match the CPU's", async () => {
    const quarter = randomVggWeights(3, narrowedConvs(4));
    const cpu = await StyleNet.open(quarter, { pooling: "max", masked: [false], device: "cpu" });
    const { device } = await openWebGpu();
    const gpu = WebGpuStyleNet.create(device, quarter.convs, { pooling: "max", tiles: TILES });
    const img = randomImage(3 * 32 * 32, 12);
    const [a, b] = [await cpu.features(img, 32, 32), await gpu.features(img, 32, 32)];
    expect(a.grams[4].length).toBe(128 * 128);
    for (const [l, g] of b.grams.entries()) expect(relativeError(g, a.grams[l])).toBeLessThan(1e-3);
    expect(relativeError(b.content, a.content)).toBeLessThan(1e-3);
    gpu.dispose();
    await cpu.dispose();
  }, 120_000);

  it("convolutions over few pixels run split along K (conv3–conv5 at 32 px), with the CPU's loss and gradient", async () => {
    const quarter = randomVggWeights(3, narrowedConvs(4)); // conv5: 128 channels, K = 1152
    const cpu = await StyleNet.open(quarter, { pooling: "max", masked: [false], device: "cpu" });
    const { device } = await openWebGpu();
    const gpu = WebGpuStyleNet.create(device, quarter.convs, { pooling: "max", tiles: TILES });
    try {
      const content = await cpu.features(randomImage(3 * 32 * 32, 13), 32, 32);
      const style = await cpu.features(randomImage(3 * 32 * 32, 14), 32, 32);
      const t: Targets = {
        content: content.content,
        grams: [style.grams],
        masks: [undefined],
        styleScales: [styleLayerScales(style.grams, content.grams)],
      };
      const lw = { content: 2, tv: 0.5, style: [300] };
      const x = randomImage(3 * 32 * 32, 15);
      const [a, b] = [await cpu.evaluate(x, 32, 32, t, lw), await gpu.evaluate(x, 32, 32, t, lw)];
      expect(Math.abs(b.loss - a.loss) / a.loss).toBeLessThan(1e-3);
      expect(relativeError(b.grad, a.grad)).toBeLessThan(1e-3);
      // conv5_1 (2×2 pixels, two tiles of rows): a slice GEMM and the sum, both ways; conv1_2 (1024 pixels, K = 144): one GEMM.
      const { kernels } = await gpu.profile(x, 32, 32, t, lw);
      const count = (label: string) => kernels.filter((k) => k.label === label).length;
      expect(convSlices(128, 4, 1152, TILES).slices).toBe(2);
      expect([count("block5_conv1 forward"), count("block5_conv1 backward")]).toEqual([2, 2]);
      expect([count("block1_conv2 forward"), count("block1_conv2 backward")]).toEqual([1, 1]);
    } finally {
      gpu.dispose();
      await cpu.dispose();
    }
  }, 120_000);

  it("runs within WebGPU's least limits (16 KiB of workgroup memory, 256 threads), as a low-end adapter allows", async () => {
    const { create, globals } = await import("webgpu");
    Object.assign(globalThis, globals);
    const gpu = create([]);
    const adapter = await gpu.requestAdapter();
    const least = await adapter!.requestDevice(); // no requiredLimits: the spec's defaults
    expect(least.limits.maxComputeWorkgroupStorageSize).toBe(16384);
    const tiles = TILE_CANDIDATES.find((t) => sharedBytesOf(t) <= 16384 && threadsOf(t) <= 256)!;
    const { device } = await openWebGpu();
    const lw = { content: 2, tv: 0.5, style: [300] };
    const evaluate = async (d: GPUDevice) => {
      const net = WebGpuStyleNet.create(d, weights.convs, { pooling: "max", tiles });
      const f = await net.features(randomImage(3 * H * W, 21), H, W);
      const t: Targets = { content: f.content, grams: [f.grams], masks: [undefined], styleScales: [[1, 1, 1, 1, 1]] };
      const e = await net.evaluate(randomImage(3 * H * W, 22), H, W, t, lw);
      net.dispose();
      return e;
    };
    const [a, b] = [await evaluate(least), await evaluate(device)];
    expect(relativeError(a.grad, b.grad)).toBeLessThan(1e-5);
    expect(a.loss).toBeCloseTo(b.loss, 5);
    least.destroy();
    expect(gpu).toBeDefined(); // Dawn's instance must outlive its devices: kept alive until here
  }, 120_000);

  it("every tile candidate the adapter allows gives the same gradient", async () => {
    const { device } = await openWebGpu();
    const { tiles, trials, deepTiles, deepTrials, winograd, winogradTrials } = await chooseTiles(device, SMALL_TRIAL);
    // Winograd was timed beside the fastest candidate, wide (widest first, then fewer channels) and deep.
    const timedBoth = [...winogradTrials.wide!, winogradTrials.deep!];
    expect(winogradTrials.wide!.map((t) => t.channels)).toEqual([32, 16]);
    for (const t of timedBoth) expect([t.direct, t.winograd]).toEqual([expect.any(Number), expect.any(Number)]);
    expect(winograd).toEqual(decideWinograd(winogradTrials.wide!, winogradTrials.deep!));
    expect(deepTrials.some((t) => t.tiles === deepTiles && t.ms !== undefined)).toBe(true);
    expect(trials.length).toBeGreaterThan(1);
    expect(trials.some((t) => t.tiles === tiles && t.ms !== undefined)).toBe(true);
    expect(trials.some((t) => (t.tiles.cn ?? 1) > 1)).toBe(true); // 8 columns a thread, too
    expect(trials.filter((t) => t.wrong)).toEqual([]); // each was checked against JavaScript first
    const gradient = async (h: number, w: number, t: { tiles: Tiles; deepTiles?: Tiles }) => {
      const net = WebGpuStyleNet.create(device, weights.convs, { pooling: "max", ...t });
      const f = await net.features(randomImage(3 * h * w, 11), h, w);
      const targets: Targets = {
        content: f.content,
        grams: [f.grams],
        masks: [undefined],
        styleScales: [[1, 1, 1, 1, 1]],
      };
      const e = await net.evaluate(randomImage(3 * h * w, 12), h, w, targets, { content: 1, tv: 0, style: [1e3] });
      net.dispose();
      return e.grad;
    };
    const results = [];
    for (const t of trials) results.push(await gradient(H, W, { tiles: t.tiles }));
    for (const r of results.slice(1)) expect(relativeError(r, results[0])).toBeLessThan(1e-5);
    // 96×64: conv1 (6144 pixels) on the wide tiles, every later layer (≤ 4096) on the deep ones
    const [first, last] = [trials[0].tiles, trials.at(-1)!.tiles];
    const mixed = await gradient(96, 64, { tiles: first, deepTiles: last });
    expect(relativeError(mixed, await gradient(96, 64, { tiles: first }))).toBeLessThan(1e-5);
  }, 120_000);

  it("a tile size whose results are wrong on a device is caught before the trial times it", async () => {
    const { device } = await openWebGpu();
    expect(await tilesComputeRightly(device, TILES)).toBe(true);
    // As a miscompiling driver would: one output element off, or every output slightly scaled.
    const off = (store: string) => store.replace(/;$/, " + select(0.0, 0.5, m == 3u && n == 5u);");
    const scaled = (store: string) => store.replace(/= (.*);$/, "= ($1) * 1.01;");
    for (const [spec, kind] of [
      [CONV_FORWARD, "forward"],
      [CONV_BACKWARD, "backward"],
    ] as const) {
      expect(await gemmComputesRightly(device, TILES, spec, kind)).toBe(true);
      for (const broken of [off, scaled])
        expect(await gemmComputesRightly(device, TILES, { ...spec, store: broken(spec.store) }, kind)).toBe(false);
      // Only in the second row of tiles (every candidate is < 136 rows): the check's rows reach it.
      const belowFirstRow = (store: string) => store.replace(/;$/, " + select(0.0, 0.5, m == 135u);");
      expect(await gemmComputesRightly(device, TILES, { ...spec, store: belowFirstRow(spec.store) }, kind)).toBe(false);
    }
    // Winograd's transforms: a wrong sign in one output of each block, the last band dropped, the mask ignored.
    expect(await winogradConvComputesRightly(device, TILES)).toBe(true);
    const codeOf = (d: Dispatch, from: string, to: string) => ({ ...d, code: d.code.replace(from, to) });
    const mutants: ((ds: Dispatch[]) => Dispatch[])[] = [
      (ds) => ds.map((d) => codeOf(d, "s1.y - s1.z - s1.w", "s1.y - s1.z + s1.w")),
      (ds) => ds.slice(0, -3),
      (ds) => ds.map((d) => codeOf(d, "select(0.0, src[i], act[i] > 0.0)", "src[i] + 0.0 * act[i]")),
    ];
    for (const mutant of mutants) {
      const broken: typeof winogradConv = (...args) => mutant(winogradConv(...args));
      expect(await winogradConvComputesRightly(device, TILES, broken)).toBe(false);
    }
    // Convolutions split along K: the last slice dropped from the sum, the bias left out, every slice into the first.
    expect(await splitConvComputesRightly(device, TILES)).toBe(true);
    const splitMutants: ((ds: Dispatch[]) => Dispatch[])[] = [
      (ds) => ds.map((d) => codeOf(d, "s < p.C", "s + 1u < p.C")),
      (ds) => ds.map((d) => codeOf(d, "sum + bias[e / p.H]", "sum + 0.0 * bias[e / p.H]")),
      (ds) => ds.map((d) => codeOf(d, "dst[(slice * p.M + m)", "dst[(0u * slice * p.M + m)")),
    ];
    for (const mutant of splitMutants) {
      const broken: typeof directConv = (...args) => mutant(directConv(...args));
      expect(await splitConvComputesRightly(device, TILES, broken)).toBe(false);
    }
    // The kernels on fixed tiles: the image's gradient, the Grams (mirrored, in slices) and their backward.
    expect(await fixedTilesComputeRightly(device)).toBe(true);
    expect(await gemmComputesRightly(device, FEW_ROWS, CONV_BACKWARD, "backward", 3)).toBe(true);
    for (const masked of [false, true]) {
      const gram = gramSpec(masked);
      const back = gramBackwardSpec(masked);
      expect(await gemmComputesRightly(device, SQUARE, gram, "gram", 0, masked)).toBe(true);
      expect(await gemmComputesRightly(device, SQUARE, back, "gram backward", 0, masked)).toBe(true);
      for (const broken of [off, scaled]) {
        expect(
          await gemmComputesRightly(device, SQUARE, { ...gram, store: broken(gram.store) }, "gram", 0, masked),
        ).toBe(false);
        const b = { ...back, store: broken(back.store) };
        expect(await gemmComputesRightly(device, SQUARE, b, "gram backward", 0, masked)).toBe(false);
      }
      // The mask ignored; the second slice of pixels dropped.
      // (The mask stays bound — an unused binding would fail validation, a false "wrong".)
      const unmasked = { ...gram, loadB: "return f[n * p.K + k] + 0.0 * mask[k];" };
      if (masked) expect(await gemmComputesRightly(device, SQUARE, unmasked, "gram", 0, true)).toBe(false);
      const oneSlice = { ...gram, store: gram.store.replace("dst[", "if (slice == 1u) { return; } dst[") };
      expect(await gemmComputesRightly(device, SQUARE, oneSlice, "gram", 0, masked)).toBe(false);
    }
  }, 120_000);
});

describe.skipIf(!HAVE_SWIFTSHADER)("WebGPU in the companion (SwiftShader)", () => {
  const picture = (size: number, f: (x: number, y: number) => number[]): RgbaImage => {
    const data = new Uint8Array(size * size * 4);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data.set([...f(x, y), 255], (y * size + x) * 4);
    return { width: size, height: size, data };
  };
  // The full-width network (what runStyle loads) is slow on SwiftShader: the smallest size, few
  // iterations, and still 40–120 s for a test's one or two jobs on a 2-core machine (more when
  // it is loaded): a ceiling against hangs, not a speed check (that is `bench style`).
  const JOB_MS = 300_000;
  const content = picture(32, (x, y) => [x * 8, y * 8, 128]);
  const style = picture(32, (x, y) => [((x ^ y) & 4) * 60, 90, (y % 8) * 32]);
  const job = (o: Record<string, unknown>) =>
    v.parse(StyleOptionsSchema, { size: 32, scales: 1, iters: 2, previewEvery: 0, ...o });
  const jobOnWebGpu = () =>
    runStyle({ content, styles: [style] }, { options: job({ device: "webgpu" }), weights: "random:1" });

  it("`stylize devices` names the software adapter, and auto does not pick it", async () => {
    const webgpu = (await listDevices()).find((d) => d.name === "webgpu")!;
    expect(webgpu).toMatchObject({ available: true, software: true });
    expect(webgpu.adapter).toMatch(/swiftshader/i);
    const auto = await pickDevice("auto");
    expect(auto.device).toBe("cpu");
    expect(auto.notes).toContain(`WebGPU skipped: only a software adapter (${webgpu.adapter}), slower than the CPU`);
    const asked = await pickDevice("webgpu");
    expect(asked.device).toBe("webgpu");
    expect(asked.notes[0]).toMatch(/^WebGPU runs on only a software adapter/);
    const { stdout } = await promisify(execFile)("node", ["dist/companion/stylize.js", "devices"]);
    expect(stdout).toContain(`✓ webgpu  ${webgpu.adapter} (software: a CPU driver, not a GPU)`);
    expect(stdout).toMatch(/--device auto uses: cpu \(.*WebGPU skipped: only a software adapter/);
    expect(await warmWebGpu()).toBe(false); // `serve` warms the GPU engine only where auto would use it
    expect(await warmWebGpu("webgpu")).toBe(true); // …and the warm-up itself runs (here on SwiftShader)
  });

  it("a job started during the warm-up waits for it: one flow of GPU work at a time", async () => {
    // Every piece of GPU work, as [what, image height] when it starts and ends (the warm-up's images
    // are 64 px high, the job's 32): no piece of the job's may start before the warm-up's last ends.
    const log: string[] = [];
    const spies = (["features", "evaluate", "prepare", "evaluateOnGpu"] as const).map((name) => {
      const original = WebGpuStyleNet.prototype[name] as (...a: unknown[]) => Promise<unknown>;
      return vi.spyOn(WebGpuStyleNet.prototype, name).mockImplementation(async function (
        this: unknown,
        ...a: unknown[]
      ) {
        const who = a[name === "evaluateOnGpu" ? 2 : name === "prepare" ? 0 : 1];
        log.push(`start ${who}`);
        try {
          return await original.apply(this, a);
        } finally {
          log.push(`end ${who}`);
        }
      } as never);
    });
    try {
      const warm = warmWebGpu("webgpu");
      const running = jobOnWebGpu();
      const [warmed, r] = await Promise.all([warm, running]);
      expect(warmed).toBe(true);
      expect(r.device).toBe("webgpu");
      const lastWarm = log.lastIndexOf("end 64");
      const firstJob = log.indexOf("start 32");
      expect(lastWarm).toBeGreaterThan(0);
      expect(firstJob).toBeGreaterThan(lastWarm);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  }, JOB_MS);

  it("a job asked to run on WebGPU runs there, masks, two styles and preserved colours included, like the CPU", async () => {
    const mask = picture(32, (x) => (x < 16 ? [255, 255, 255] : [0, 0, 0]));
    const inputs = { content, styles: [style, content], masks: [mask, undefined] };
    const opts = { styleBlend: [1, 1], preserveColors: true };
    const notes: string[] = [];
    // A budget of one byte: the CPU engine's memory check does not apply to a job on the GPU.
    const previews: RgbaImage[] = [];
    const gpu = await runStyle(inputs, {
      options: job({ ...opts, device: "webgpu", previewEvery: 1 }),
      weights: "random:1",
      onNote: (n) => notes.push(n),
      onPreview: (img) => {
        previews.push(img);
      },
      memoryBudget: 1,
    });
    expect(previews.length).toBeGreaterThan(0); // read back from the GPU mid-scale
    await expect(
      runStyle(inputs, { options: job({ ...opts, device: "cpu" }), weights: "random:1", memoryBudget: 1 }),
    ).rejects.toMatchObject({ code: "too-large" });
    const cpu = await runStyle(inputs, { options: job({ ...opts, device: "cpu" }), weights: "random:1" });
    expect(gpu.device).toBe("webgpu");
    expect(gpu.fallback).toBeUndefined();
    // The optimiser's vectors stayed on the GPU at every scale (L-BFGS there, tested in gpu-optim).
    expect(gpu.scales.map((sc) => sc.vectors)).toEqual(gpu.scales.map(() => "gpu"));
    expect(cpu.scales.every((sc) => sc.vectors === "host")).toBe(true);
    expect(notes.some((n) => /software adapter/.test(n))).toBe(true);
    let diff = 0;
    for (let i = 0; i < gpu.image.data.length; i++) diff += Math.abs(gpu.image.data[i] - cpu.image.data[i]);
    expect(diff / gpu.image.data.length).toBeLessThan(1); // mean difference under one level of 255
  }, 180_000);

  it("`bench style --check` finds the GPU's loss and gradient equal to the CPU's, and says so", async () => {
    const a = await agreement(randomVggWeights(3, NARROW), "webgpu", 32, "max");
    expect(a).toMatchObject({ device: "webgpu", ranOn: "webgpu", size: 32, pooling: "max" });
    expect(a.loss).toBeLessThan(AGREE_WITHIN);
    expect(a.gradient).toBeLessThan(AGREE_WITHIN);
    expect(a.gradient).toBeGreaterThan(0); // two engines, not one compared with itself
    expect(agreementLine(a)).toMatch(/^webgpu \(.*SwiftShader.*\) vs cpu, 32 px, max pooling: .* agrees$/i);
    // A GPU that fell back, or one that differs, is never called agreeing.
    expect(agreementLine({ ...a, ranOn: "cpu", loss: 0, gradient: 0 })).toMatch(/fell back to cpu.*DIFFERS/);
    expect(agreementLine({ ...a, gradient: 0.01 })).toMatch(/DIFFERS/);
  }, JOB_MS);

  it("bench's --convolutions: every convolution direct or by Winograd, said so, agreeing with the CPU either way", async () => {
    const weights = randomVggWeights(3, NARROW);
    const x = randomImage(3 * 32 * 32, 5);
    const dispatches = new Map<string, number>();
    for (const convolutions of ["direct", "winograd"] as const) {
      const a = await agreement(weights, "webgpu", 32, "max", convolutions);
      expect(a).toMatchObject({ ranOn: "webgpu" });
      expect(a.gradient).toBeLessThan(AGREE_WITHIN);
      const net = await openStyleNet(weights, { pooling: "max", masked: [false], device: "webgpu", convolutions });
      try {
        expect(net.kernels).toMatch(
          new RegExp(`^GEMM tiles .*convolutions: wide .* — all ${convolutions} here, as asked$`),
        );
        const f = await net.features(x, 32, 32);
        const t: Targets = { content: f.content, grams: [f.grams], masks: [undefined], styleScales: [[1, 1, 1, 1, 1]] };
        const { kernels } = (await net.profile!(x, 32, 32, t, { content: 1, tv: 1, style: [1] }))!;
        dispatches.set(convolutions, kernels.filter((k) => k.label === "block3_conv1 forward").length);
      } finally {
        await net.release();
      }
    }
    expect(Object.fromEntries(dispatches)).toEqual({ direct: 1, winograd: 3 });
  }, 240_000);

  it("refuses a size the GPU cannot hold, naming the largest that fits", () => {
    const convs = randomVggWeights(1).convs;
    const quarterGiB = { maxStorageBufferBindingSize: 2 ** 28, maxBufferSize: 2 ** 40 };
    // conv1's output, 64 channels × 4 bytes a pixel, is the largest buffer: 1024² fits in 256 MiB.
    expect(() => checkGpuSize(convs, quarterGiB, "a small GPU", 1024, 1024)).not.toThrow();
    expect(() => checkGpuSize(convs, quarterGiB, "a small GPU", 1536, 1024)).toThrow(
      expect.objectContaining({
        code: "too-large",
        message:
          "A 1536 px style transfer needs GPU buffers of 0.4 GB; this GPU (a small GPU) allows 0.3 GB. Choose a smaller size (at most 1248 px).",
      }),
    );
  });

  it("an evaluation that does not come back in time stops the device and says so", async () => {
    const { device } = await openWebGpu();
    const net = WebGpuStyleNet.create(device, randomVggWeights(7, NARROW).convs, {
      pooling: "max",
      tiles: TILES,
      timeoutMs: 1, // SwiftShader needs far longer than 1 ms
    });
    await expect(net.features(randomImage(3 * 32 * 32, 1), 32, 32)).rejects.toMatchObject({
      name: "GpuError",
      kind: "timeout",
    });
    await device.lost; // destroyed: the next job gets a new device
    expect((await openWebGpu()).device).not.toBe(device);
  }, 60_000);

  it("optimiser vectors that do not fit on the GPU stay on the host, said so; the evaluations stay on the GPU", async () => {
    const create = vi
      .spyOn(GpuVectors, "create")
      .mockRejectedValue(new GpuError("memory", "the GPU ran out of memory: (test)"));
    try {
      const notes: string[] = [];
      const r = await runStyle(
        { content, styles: [style] },
        {
          options: job({ device: "webgpu", iters: 2 }),
          weights: "random:1",
          onNote: (n) => notes.push(n),
        },
      );
      expect(create).toHaveBeenCalled();
      expect(r.device).toBe("webgpu");
      expect(r.fallback).toBeUndefined();
      expect(r.scales.every((sc) => sc.vectors === "host")).toBe(true);
      expect(notes.filter((n) => /vectors/.test(n))).toEqual([
        "The optimiser's vectors stay on the CPU (slower): the GPU ran out of memory: (test).",
      ]);
    } finally {
      create.mockRestore();
    }
  }, JOB_MS);

  it("a GPU that computes NaN features: the job runs on the CPU from good targets, says why, and the GPU is tried again next time", async () => {
    type Run = (...a: unknown[]) => Promise<Float32Array>;
    const proto = WebGpuStyleNet.prototype as unknown as { run: Run };
    const original = proto.run;
    let calls = 0;
    // The job's first read-back is the content's features: one value of it comes back NaN.
    const run = vi.spyOn(proto, "run").mockImplementation(async function (this: unknown, ...a: unknown[]) {
      const data = await original.apply(this, a);
      if (calls++ === 0) data[0] = Number.NaN;
      return data;
    });
    try {
      const notes: string[] = [];
      const r = await runStyle(
        { content, styles: [style] },
        { options: job({ device: "webgpu" }), weights: "random:1", onNote: (n) => notes.push(n) },
      );
      expect(r.device).toBe("cpu");
      expect(r.fallback).toBe("WebGPU failed: the GPU computed features that are not numbers (NaN)");
      expect(notes).toContain(`ran on the CPU: ${r.fallback}`);
      expect(Number.isFinite(r.loss)).toBe(true);
    } finally {
      run.mockRestore();
    }
    const next = await jobOnWebGpu();
    expect(next.device).toBe("webgpu");
  }, JOB_MS);

  it("a scale's loss buffers are made before the optimiser's vectors; a GPU that cannot hold them moves the job to the CPU before any vector is made", async () => {
    const prepare = vi.spyOn(WebGpuStyleNet.prototype, "prepare");
    // The loss plan (private): where the loss's buffers are made.
    const plan = vi.spyOn(WebGpuStyleNet.prototype as unknown as { lossPlan: () => unknown }, "lossPlan");
    const create = vi.spyOn(GpuVectors, "create");
    try {
      const r = await runStyle(
        { content, styles: [style] },
        { options: job({ device: "webgpu", iters: 2 }), weights: "random:1" },
      );
      expect(r.scales.map((sc) => sc.vectors)).toEqual(["gpu"]);
      expect(prepare).toHaveBeenCalledOnce();
      expect(create).toHaveBeenCalledOnce();
      expect(plan.mock.invocationCallOrder[0]).toBeGreaterThan(prepare.mock.invocationCallOrder[0]);
      expect(plan.mock.invocationCallOrder[0]).toBeLessThan(create.mock.invocationCallOrder[0]);

      create.mockClear();
      // Out of memory: a fallback that does not mark WebGPU failed for the later tests.
      prepare.mockRejectedValueOnce(new GpuError("memory", "the GPU ran out of memory: (test)"));
      const notes: string[] = [];
      const cpu = await runStyle(
        { content, styles: [style] },
        { options: job({ device: "webgpu", iters: 2 }), weights: "random:1", onNote: (n) => notes.push(n) },
      );
      expect(create).not.toHaveBeenCalled();
      expect(cpu.device).toBe("cpu");
      expect(cpu.fallback).toBe("WebGPU failed: the GPU ran out of memory: (test)");
      expect(notes).toContain(`ran on the CPU: ${cpu.fallback}`);
      expect(cpu.scales.map((sc) => [sc.vectors, sc.iters])).toEqual([["host", 2]]);
    } finally {
      prepare.mockRestore();
      plan.mockRestore();
      create.mockRestore();
    }
  }, JOB_MS);

  it("a job on WebGPU cancelled mid-scale stops, frees its GPU vectors, and the next job runs there", async () => {
    const ac = new AbortController();
    const dispose = vi.spyOn(GpuVectors.prototype, "dispose");
    try {
      await expect(
        runStyle(
          { content, styles: [style] },
          {
            options: job({ device: "webgpu", iters: 4 }),
            weights: "random:1",
            signal: ac.signal,
            onProgress: (p) => {
              if (p.iter === 1) ac.abort();
            },
          },
        ),
      ).rejects.toMatchObject({ name: "AbortError" });
      expect(dispose).toHaveBeenCalledOnce();
    } finally {
      dispose.mockRestore();
    }
    const next = await jobOnWebGpu();
    expect(next.device).toBe("webgpu");
    expect(next.scales.map((sc) => sc.vectors)).toEqual(["gpu"]);
  }, JOB_MS);

  it("Adam jobs keep their vectors on the GPU too, and match the CPU's", async () => {
    const opts = { optimizer: "adam", iters: 3 };
    const gpu = await runStyle(
      { content, styles: [style] },
      { options: job({ ...opts, device: "webgpu" }), weights: "random:1" },
    );
    const cpu = await runStyle(
      { content, styles: [style] },
      { options: job({ ...opts, device: "cpu" }), weights: "random:1" },
    );
    expect(gpu.scales.map((sc) => [sc.vectors, sc.iters])).toEqual([["gpu", 3]]);
    // Adam scales each pixel's step by its own gradient's size, so the pixels with the smallest
    // gradients (random weights: 10⁴ below the largest) weigh as much as any. Winograd's float32
    // error is relative to a 4×4 patch's largest values, not each output's: 1% on those pixels.
    // Measured at 32 px: 6e-6 with direct convolutions, 1.4e-3 with Winograd, which the (noisy)
    // trial on SwiftShader sometimes picks. The loss falls 37 % from the first step to the third:
    // a broken optimiser is off by far more.
    expect(Math.abs(gpu.loss - cpu.loss) / cpu.loss).toBeLessThan(5e-3);
  }, JOB_MS);

  it("a GPU that fails in the optimiser's own work: the scale starts again on the CPU, and says why", async () => {
    // Step 2's direction (step 1 has no curvature pair yet) fails.
    const spy = vi
      .spyOn(GpuVectors.prototype, "pairThenTwoLoop")
      // Out of memory: a fallback that does not mark WebGPU failed for the later tests.
      .mockRejectedValue(new GpuError("memory", "the GPU ran out of memory: (test)"));
    try {
      const notes: string[] = [];
      const progress: number[] = [];
      const r = await runStyle(
        { content, styles: [style] },
        {
          options: job({ device: "webgpu", iters: 3 }),
          weights: "random:1",
          onNote: (n) => notes.push(n),
          onProgress: (p) => progress.push(p.iter),
        },
      );
      expect(spy).toHaveBeenCalledOnce();
      expect(r.device).toBe("cpu");
      expect(r.fallback).toBe("WebGPU failed: the GPU ran out of memory: (test)");
      expect(notes).toContain(`ran on the CPU: ${r.fallback}`);
      // Step 1 on the GPU, step 2 failed there: the scale ran again from its start on the CPU.
      expect(progress).toEqual([1, 1, 2, 3]);
      expect(r.scales.map((sc) => [sc.vectors, sc.iters])).toEqual([["host", 3]]);
    } finally {
      spy.mockRestore();
    }
  }, JOB_MS);

  // Last: a lost device marks WebGPU failed for the rest of this process.
  it("a GPU lost mid-job: the job finishes on the CPU and says why, where the user looks", async () => {
    const notes: string[] = [];
    const r = await runStyle(
      { content, styles: [style] },
      {
        options: job({ device: "webgpu", iters: 3 }),
        weights: "random:1",
        onNote: (n) => notes.push(n),
        onProgress: async (p) => {
          if (p.iter === 1) (await openWebGpu()).device.destroy();
        },
      },
    );
    expect(r.device).toBe("cpu");
    expect(r.iters).toBe(3); // the scale started again on the CPU: its vectors were on the lost GPU
    expect(r.scales.map((sc) => [sc.vectors, sc.iters])).toEqual([["host", 3]]);
    expect(r.fallback).toMatch(/^WebGPU failed: /);
    expect(notes).toContain(`ran on the CPU: ${r.fallback}`);
    const webgpu = (await listDevices()).find((d) => d.name === "webgpu")!;
    expect(webgpu.available).toBe(false);
  }, JOB_MS);
});

describe("split-K for convolutions over few pixels (no GPU needed)", () => {
  const tiles = { tm: 64, tn: 128, tk: 16, rm: 8, cn: 2 };
  it("splits a deep layer at a coarse scale into slices that fill a GPU, and leaves wide layers whole", () => {
    // conv5_1 at 128 px: 8×8 pixels, 8 tiles of rows, K = 4608 → 8 slices of 576, 64 workgroups.
    expect(convSlices(512, 64, 4608, tiles)).toEqual({ slices: 8, kPer: 576 });
    // conv4_2 at 256 px: 32×32 pixels, 64 tiles → 8 slices.
    expect(convSlices(512, 1024, 4608, tiles).slices).toBe(8);
    // conv1_2 at 512 px: 2048 tiles already; conv1_2 at 32 px: K = 576 is one slice's least.
    expect(convSlices(64, 512 * 512, 576, tiles)).toEqual({ slices: 1, kPer: 576 });
    expect(convSlices(64, 32 * 32, 576, tiles).slices).toBe(1);
    // Every slice a whole number of tile steps, none empty, together all of K.
    for (const [M, N, K] of [
      [512, 64, 4608],
      [256, 100, 2304],
      [128, 4, 1152],
      [512, 4, 4600],
    ]) {
      const { slices, kPer } = convSlices(M, N, K, tiles);
      expect(kPer % tiles.tk).toBe(0);
      expect(kPer * slices).toBeGreaterThanOrEqual(K);
      expect(kPer * (slices - 1)).toBeLessThan(K);
    }
  });
});

describe("the watchdog (no GPU needed)", () => {
  const vgg = randomVggWeights(0).convs;
  it("a large evaluation gets the time a slow GPU needs; slow is not taken for hung", () => {
    expect(evaluationTimeoutMs(vgg, 512, 512)).toBe(TIMEOUT_MS); // 0.4 TFLOP: the floor
    const big = evaluationTimeoutMs(vgg, 2048, 2048); // 6 TFLOP at 50 GFLOP/s
    expect(big).toBeGreaterThan(100_000);
    expect(big).toBeLessThan(150_000);
    expect(evaluationTimeoutMs(vgg, 2048, 2048, 1)).toBe(big); // a short limit grows as well
    expect(evaluationTimeoutMs(vgg, 32, 32, 1)).toBeLessThan(100); // tiny work keeps a short limit short
    expect(evaluationTimeoutMs(vgg, 2048, 2048, 0)).toBe(0); // no watchdog (software adapters)
  });
});
