// The engine entry points the server drives. They are imported lazily, inside the job, so the
// server starts (and answers `hello`) without loading onnxruntime or spawning workers.
// Tests may replace any of them through `ServerConfig.engines`.
import type { createPrimitives } from "../primitives/engine";
import type { DeviceInfo } from "../style/devices";
import type { runStyle } from "../style/engine";

export type { PrimitivesSession } from "../primitives/engine";
export type { StyleInputs } from "../style/engine";
export type { DeviceInfo };

export interface Engines {
  createPrimitives: typeof createPrimitives;
  runStyle: typeof runStyle;
  listDevices(): Promise<DeviceInfo[]>;
  /** Resolve the weights spec (undefined = the installed weights) and say whether they are there. */
  weights(spec: string | undefined): Promise<{ spec: string; installed: boolean }>;
}

export const realEngines: Engines = {
  async createPrimitives(target, options, run) {
    return (await import("../primitives/engine")).createPrimitives(target, options, run);
  },
  async runStyle(inputs, spec) {
    return (await import("../style/engine")).runStyle(inputs, spec);
  },
  async listDevices() {
    return (await import("../style/devices")).listDevices();
  },
  async weights(spec) {
    if (spec && /^random(:\d+)?$/.test(spec.trim())) return { spec, installed: true };
    const w = await import("../style/weights");
    const path = spec ?? w.defaultWeightsPath();
    return { spec: path, installed: w.weightsInstalled(path) };
  },
};
