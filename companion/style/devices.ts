// Which ONNX Runtime execution providers work on this machine, and which one a job should use.
// GPU providers are probed in a child process with a timeout: a broken driver can crash or hang
// the native code, and that must never take the companion down.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import {
  chooseDevice,
  type DeviceChoice,
  type DeviceInfo,
  type DeviceName,
  type DeviceRequest,
} from "../../shared/devices";
import { adapterName, describeAdapter, type RawAdapterInfo } from "./webgpu-device";
// onnx-proto is CommonJS: Node ESM sees only its default export.
import onnxProto from "onnx-proto";

export {
  AUTO_ORDER,
  chooseDevice,
  DEVICE_LABEL,
  type DeviceChoice,
  type DeviceInfo,
  type DeviceName,
  type DeviceRequest,
} from "../../shared/devices";

const PROBE_TIMEOUT_MS = 20_000;

let detected: Promise<DeviceInfo[]> | undefined;

/** The three devices and whether each works here; probed once per process. */
export function listDevices(): Promise<DeviceInfo[]> {
  detected ??= Promise.all([detectWebgpu(), detectCuda()]).then(([webgpu, cuda]) => [
    { name: "cpu", available: true },
    webgpu,
    cuda,
  ]);
  return detected;
}

/** Record a provider that failed at run time, so later `auto` picks skip it. */
export async function markDeviceFailed(name: DeviceName, reason: string): Promise<void> {
  if (name === "cpu") return;
  const list = await listDevices();
  detected = Promise.resolve(list.map((d) => (d.name === name ? { name, available: false, reason } : d)));
}

export async function pickDevice(requested: DeviceRequest): Promise<DeviceChoice> {
  if (requested === "cpu") return { device: "cpu", notes: [] }; // no probing needed
  return chooseDevice(requested, await listDevices());
}

// ---- detection ----

const requireHere = createRequire(import.meta.url);

/** onnxruntime-node's native folder, where optional providers (CUDA) get installed. */
export function ortBinDir(): string {
  const pkg = dirname(requireHere.resolve("onnxruntime-node/package.json"));
  return join(pkg, "bin", "napi-v6", process.platform, process.arch);
}

async function detectWebgpu(): Promise<DeviceInfo> {
  const r = await probeWebgpu();
  if (!r.ok) return { name: "webgpu", available: false, reason: r.reason };
  return { name: "webgpu", available: true, adapter: r.adapter, software: r.software };
}

export type WebgpuProbe = { ok: true; adapter: string; software: boolean } | { ok: false; reason: string };

/**
 * Open the WebGPU adapter (the `webgpu` package, Dawn) in a child process and run a tiny compute
 * shader: a broken driver can crash or hang native code, never the companion.
 */
export async function probeWebgpu(timeoutMs = PROBE_TIMEOUT_MS): Promise<WebgpuProbe> {
  const args = ["--input-type=module", "-e", WEBGPU_PROBE, requireHere.resolve("webgpu")];
  const r = await runProbe<{ ok: boolean; error?: string; info?: RawAdapterInfo }>(args, timeoutMs, "WebGPU");
  if ("failed" in r) return { ok: false, reason: r.failed };
  if (!r.json.ok || !r.json.info) return { ok: false, reason: webgpuReason(r.json.error ?? "", r.stderr) };
  const a = describeAdapter(r.json.info);
  return { ok: true, adapter: adapterName(a), software: a.software };
}

/** Run a probe script in a child process: its first JSON line, or why it printed none (crash, timeout). */
function runProbe<T>(args: string[], timeoutMs: number, what: string) {
  return new Promise<{ json: T; stderr: string } | { failed: string }>((done) => {
    execFile(
      process.execPath,
      args,
      { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 1 << 20, windowsHide: true },
      (err, stdout, stderr) => {
        const line = stdout.split("\n").find((l) => l.startsWith("{"));
        if (line) return done({ json: JSON.parse(line) as T, stderr });
        const killed = (err as { killed?: boolean } | null)?.killed;
        const why = killed ? `timed out after ${timeoutMs / 1000} s` : `crashed (${lastLine(stderr) || err?.message})`;
        done({ failed: `the ${what} check ${why}` });
      },
    );
  });
}

// ESM (the webgpu package is); argv: the package's entry file. Doubles [-1, 2] into [0, 4].
const WEBGPU_PROBE = `
import { pathToFileURL } from "node:url";
const out = (o) => console.log(JSON.stringify(o));
try {
  const { create, globals } = await import(pathToFileURL(process.argv[1]).href);
  Object.assign(globalThis, globals);
  const gpu = create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) { out({ ok: false, error: "no adapter" }); process.exit(0); }
  const d = await adapter.requestDevice();
  const code = "@group(0) @binding(0) var<storage, read_write> v: array<f32>;" +
    "@compute @workgroup_size(2) fn main(@builtin(global_invocation_id) i: vec3<u32>) { v[i.x] = max(v[i.x], 0.0) * 2.0; }";
  const buf = d.createBuffer({ size: 8, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  d.queue.writeBuffer(buf, 0, new Float32Array([-1, 2]));
  const read = d.createBuffer({ size: 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const pipe = d.createComputePipeline({ layout: "auto", compute: { module: d.createShaderModule({ code }), entryPoint: "main" } });
  const enc = d.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipe);
  pass.setBindGroup(0, d.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] }));
  pass.dispatchWorkgroups(1);
  pass.end();
  enc.copyBufferToBuffer(buf, 0, read, 0, 8);
  d.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const r = Array.from(new Float32Array(read.getMappedRange()));
  const i = adapter.info;
  const info = { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description,
    isFallbackAdapter: i.isFallbackAdapter === true };
  out(r.join() === "0,4" ? { ok: true, info } : { ok: false, error: "wrong result from a test shader" });
  d.destroy();
} catch (e) {
  out({ ok: false, error: String((e && e.message) || e) });
}
process.exit(0);
`;

function webgpuReason(error: string, stderr: string): string {
  if (error === "no adapter") {
    if (/Found no drivers|libvulkan/i.test(stderr))
      return "no WebGPU adapter: no Vulkan driver found (install your GPU's Vulkan driver and libvulkan1)";
    return "no WebGPU adapter found";
  }
  return lastLine(error) || "the WebGPU check failed";
}

async function detectCuda(): Promise<DeviceInfo> {
  const off = (reason: string): DeviceInfo => ({ name: "cuda", available: false, reason });
  if (process.platform !== "linux" || process.arch !== "x64") {
    return off(`onnxruntime-node has a CUDA provider only for Linux x64 (this is ${process.platform} ${process.arch})`);
  }
  if (!existsSync(join(ortBinDir(), "libonnxruntime_providers_cuda.so"))) {
    return off("CUDA provider not installed: run `npm run setup:cuda`");
  }
  if (!existsSync("/proc/driver/nvidia/version"))
    return off("no NVIDIA driver is loaded (/proc/driver/nvidia/version is missing)");
  const r = await probeProvider("cuda");
  return r.ok ? { name: "cuda", available: true } : off(r.reason);
}

export type ProbeResult = { ok: true } | { ok: false; reason: string };

/**
 * Create a session for a one-node model on `provider` in a child process and run it once.
 * CPU fallback is disabled, so success means the provider itself ran the node.
 */
export async function probeProvider(provider: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  const args = ["-e", PROBE_SCRIPT, requireHere.resolve("onnxruntime-node"), provider, tinyModel().toString("base64")];
  const r = await runProbe<{ ok: boolean; error?: string }>(args, timeoutMs, provider);
  if ("failed" in r) return { ok: false, reason: r.failed };
  return r.json.ok ? { ok: true } : { ok: false, reason: explain(provider, r.json.error ?? "", r.stderr) };
}

// CommonJS so it runs with `node -e`; argv: ort path, provider, base64 model.
const PROBE_SCRIPT = `
const [ortPath, ep, model] = process.argv.slice(1);
const ort = require(ortPath);
(async () => {
  try {
    const s = await ort.InferenceSession.create(Buffer.from(model, "base64"), {
      executionProviders: [ep], logSeverityLevel: 3,
      extra: ep === "cpu" ? {} : { session: { disable_cpu_ep_fallback: "1" } } });
    const r = await s.run({ x: new ort.Tensor("float32", Float32Array.from([-1, 2, -3, 4]), [4]) });
    const ok = Array.from(r.y.data).join() === "0,2,0,4";
    console.log(JSON.stringify(ok ? { ok } : { ok, error: "wrong result from a test model" }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: String(e && e.message || e) }));
  }
})();
`;

/** y = Relu(x), x: float[4]. */
function tinyModel(): Buffer {
  const { onnx } = onnxProto;
  const float = onnx.TensorProto.DataType.FLOAT;
  const io = (name: string) => ({ name, type: { tensorType: { elemType: float, shape: { dim: [{ dimValue: 4 }] } } } });
  const bytes = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    producerName: "stylize-device-probe",
    graph: {
      name: "probe",
      node: [{ opType: "Relu", input: ["x"], output: ["y"] }],
      input: [io("x")],
      output: [io("y")],
    },
  }).finish();
  return Buffer.from(bytes);
}

/** ORT's messages are long C++ paths; keep the part a user can act on, plus hints from the native log. */
function explain(provider: string, error: string, stderr: string): string {
  const hints: string[] = [];
  const vulkan = /Couldn't load Vulkan: ([^\s:]+)/.exec(stderr)?.[1];
  if (vulkan) hints.push(`the Vulkan loader ${vulkan} is missing`);
  const lib = /Failed to load library [^\n]*? with error: ([^\n]*)/.exec(stderr)?.[1];
  if (lib) hints.push(`cannot load a provider library: ${lib.trim()}`);
  if (provider === "cuda" && /libcudnn|libcublas|libcudart|libcufft|libcurand/.test(lib ?? "")) {
    hints.push("install the CUDA 12 and cuDNN 9 runtime libraries");
  }
  if (hints.length) return hints.join("; ");
  return lastLine(error).replace(/^.*?\.(cc|h):\d+ \S+ /, "") || `the ${provider} provider failed`;
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n").filter(Boolean);
  return (lines[lines.length - 1] ?? "").trim();
}
