// Device selection: the pure choice with synthetic device lists, and the real probes on this machine
// (no GPU here, so WebGPU and CUDA can only be checked on their "unavailable" paths).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  chooseDevice,
  type DeviceInfo,
  listDevices,
  markDeviceFailed,
  ortBinDir,
  pickDevice,
  probeProvider,
} from "../../companion/style/devices";

const devices = (webgpu: boolean, cuda: boolean): DeviceInfo[] => [
  { name: "cpu", available: true },
  webgpu ? { name: "webgpu", available: true } : { name: "webgpu", available: false, reason: "no adapter" },
  cuda ? { name: "cuda", available: true } : { name: "cuda", available: false, reason: "not installed" },
];

describe("chooseDevice", () => {
  it("auto takes CUDA, then WebGPU, then CPU, saying why it skipped the others", () => {
    expect(chooseDevice("auto", devices(true, true))).toEqual({
      device: "cuda",
      notes: [],
    });
    expect(chooseDevice("auto", devices(true, false))).toEqual({
      device: "webgpu",
      notes: ["CUDA skipped: not installed"],
    });
    expect(chooseDevice("auto", devices(false, false))).toEqual({
      device: "cpu",
      notes: ["CUDA skipped: not installed", "WebGPU skipped: no adapter"],
    });
  });

  it("an unavailable explicit request falls back with a note instead of failing", () => {
    const cuda = chooseDevice("cuda", devices(true, false));
    expect(cuda.device).toBe("webgpu");
    expect(cuda.notes).toEqual(["CUDA was requested but is unavailable: not installed", "using WebGPU instead"]);
    const webgpu = chooseDevice("webgpu", devices(false, true));
    expect(webgpu.device).toBe("cpu"); // never "up" to CUDA when WebGPU was asked for
    expect(webgpu.notes).toEqual(["WebGPU was requested but is unavailable: no adapter", "using CPU instead"]);
  });

  it("an available explicit request is used as is", () => {
    expect(chooseDevice("webgpu", devices(true, true))).toEqual({
      device: "webgpu",
      notes: [],
    });
    expect(chooseDevice("cpu", devices(true, true)).device).toBe("cpu");
  });
});

describe("probeProvider (child process)", () => {
  it("succeeds on the CPU provider", async () => {
    expect(await probeProvider("cpu")).toEqual({ ok: true });
  });

  it("reports an unknown provider as a failure, not a crash", async () => {
    const r = await probeProvider("nosuchprovider");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/nosuchprovider/);
  });

  it("gives up after the timeout", async () => {
    const r = await probeProvider("cpu", 1);
    expect(r).toEqual({ ok: false, reason: "the cpu check timed out after 0.001 s" });
  });
});

describe("listDevices / pickDevice on this machine", () => {
  it("lists the three devices once, CPU always available, a reason for each unavailable one", async () => {
    const list = await listDevices();
    expect(list.map((d) => d.name)).toEqual(["cpu", "webgpu", "cuda"]);
    expect(list[0]).toEqual({ name: "cpu", available: true });
    for (const d of list.filter((x) => !x.available)) {
      expect(d.reason).toBeTruthy();
      expect(d.reason).not.toMatch(/\.cc:\d+/); // no raw C++ locations
    }
    expect(await listDevices()).toBe(list);
    if (!existsSync(join(ortBinDir(), "libonnxruntime_providers_cuda.so")) && process.platform === "linux") {
      expect(list[2]).toEqual({
        name: "cuda",
        available: false,
        reason: "CUDA provider not installed: run `npm run setup:cuda`",
      });
    }
  });

  it("pickDevice agrees with the list", async () => {
    const list = await listDevices();
    expect(await pickDevice("auto")).toEqual(chooseDevice("auto", list));
    expect(await pickDevice("cpu")).toEqual({ device: "cpu", notes: [] });
  });

  it("a provider that failed at run time is skipped afterwards", async () => {
    const before = await listDevices();
    await markDeviceFailed("webgpu", "WebGPU failed on the style graph: out of memory");
    const after = await listDevices();
    expect(after.find((d) => d.name === "webgpu")).toEqual({
      name: "webgpu",
      available: false,
      reason: "WebGPU failed on the style graph: out of memory",
    });
    expect(after.find((d) => d.name === "cuda")).toEqual(before.find((d) => d.name === "cuda"));
    const pick = await pickDevice("webgpu");
    expect(pick.notes[0]).toBe(
      "WebGPU was requested but is unavailable: WebGPU failed on the style graph: out of memory",
    );
  });
});
