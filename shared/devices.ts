// Which compute device a style job runs on: the decision itself, pure, so that the companion (which
// probes the devices) and the plugin's status line (which reads the companion's list) agree.
import type { DeviceInfoSchema } from "./protocol";
import type * as v from "valibot";

export type DeviceName = "cpu" | "webgpu" | "cuda";
export type DeviceRequest = "auto" | DeviceName;
/** A device and whether it works here (the companion's probes; `hello` carries the list). */
export type DeviceInfo = v.InferOutput<typeof DeviceInfoSchema>;

export interface DeviceChoice {
  device: DeviceName;
  /** Why other devices were skipped, or what fell back. */
  notes: string[];
}

/** `auto` prefers the first available of these. */
export const AUTO_ORDER: readonly DeviceName[] = ["cuda", "webgpu", "cpu"];
export const DEVICE_LABEL: Record<DeviceName, string> = { cpu: "CPU", webgpu: "WebGPU", cuda: "CUDA" };

/** The decision, for any device list (tested with synthetic ones). */
export function chooseDevice(requested: DeviceRequest, devices: readonly DeviceInfo[]): DeviceChoice {
  const info = (name: DeviceName) => devices.find((d) => d.name === name);
  // An explicit request falls back along the auto order from that device; it never fails.
  const order = requested === "auto" ? AUTO_ORDER : AUTO_ORDER.slice(AUTO_ORDER.indexOf(requested));
  const notes: string[] = [];
  for (const name of order) {
    const d = info(name);
    const label = DEVICE_LABEL[name];
    // A software adapter is a CPU pretending to be a GPU: auto never takes it; asked for, it runs.
    if (d?.available && d.software) {
      const what = `only a software adapter (${d.adapter ?? "unnamed"}), slower than the CPU`;
      if (requested === "auto") {
        notes.push(`${label} skipped: ${what}`);
        continue;
      }
      notes.push(`${label} runs on ${what}`);
    }
    if (name === "cpu" || d?.available) {
      if (requested !== "auto" && name !== requested) notes.push(`using ${label} instead`);
      return { device: name, notes };
    }
    const why = d?.reason ?? "not detected";
    notes.push(requested === name ? `${label} was requested but is unavailable: ${why}` : `${label} skipped: ${why}`);
  }
  return { device: "cpu", notes };
}

/** What the designer and the CLI read when a job (or part of it) ran on the CPU because a GPU failed. */
export const fallbackNote = (reason: string) => `ran on the CPU: ${reason}`;
