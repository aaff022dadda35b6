// The engine entry points the server drives. They are imported lazily, inside the job, so the
// server starts (and answers `hello`) without loading onnxruntime or spawning workers.
// Tests may replace any of them through `ServerConfig.engines`.
import type { StyleOptions } from "../../shared/protocol";
import type { RgbaImage } from "../image";
import type { createPrimitives } from "../primitives/engine";
import type { DeviceInfo } from "../style/devices";

export type { PrimitivesSession } from "../primitives/engine";
export type { DeviceInfo };

// ---- the style engine's contract (companion/style/engine.ts); imported from there once it lands ----
export interface StyleInputs {
  content: RgbaImage;
  styles: RgbaImage[];
  masks?: (RgbaImage | undefined)[];
}
export interface StyleProgress {
  iter: number;
  total: number;
  loss: number;
  terms: Record<string, number>;
  scale: number;
  scales: number;
  etaMs?: number;
}
export interface StyleRunSpec {
  options: StyleOptions;
  weights: string;
  signal?: AbortSignal;
  onProgress?: (p: StyleProgress) => void;
  onPreview?: (img: RgbaImage, iter: number) => void | Promise<void>;
}
export interface StyleResult {
  image: RgbaImage;
  device: string;
  ms: number;
  iters: number;
  loss: number;
}
export interface Engines {
  createPrimitives: typeof createPrimitives;
  runStyle(inputs: StyleInputs, spec: StyleRunSpec): Promise<StyleResult>;
  listDevices(): Promise<DeviceInfo[]>;
  /** Resolve the weights spec (undefined = the installed weights) and say whether they are there. */
  weights(spec: string | undefined): Promise<{ spec: string; installed: boolean }>;
}

// A specifier in a variable until the style engine lands (then it becomes a literal import).
const STYLE_ENGINE = "../style/engine";

export const realEngines: Engines = {
  async createPrimitives(target, options, run) {
    return (await import("../primitives/engine")).createPrimitives(target, options, run);
  },
  async runStyle(inputs, spec) {
    return (await import(STYLE_ENGINE)).runStyle(inputs, spec);
  },
  async listDevices() {
    return (await import("../style/devices")).listDevices();
  },
  async weights(spec) {
    if (spec?.startsWith("random")) return { spec, installed: true };
    const w = await import("../style/weights");
    const path = spec ?? w.defaultWeightsPath();
    return { spec: path, installed: w.weightsInstalled(path) };
  },
};
