// The engine entry points the server drives. They are imported lazily, inside the job, so the
// server starts (and answers `hello`) without loading onnxruntime or spawning workers.
// Tests may replace any of them through `ServerConfig.engines`.
import type { PrimitivesOptions, StyleOptions } from "../../shared/protocol";
import type { Color, Shape } from "../../shared/shapes";
import type { RgbaImage } from "../image";

// ---- the engine contracts (companion/primitives/engine.ts, companion/style/engine.ts) ----
export interface PrimitivesEvent {
  index: number;
  shape: Shape;
  score: number;
}
export interface PrimitivesSession {
  width: number;
  height: number;
  background: Color;
  initialScore: number;
  shapes(): AsyncGenerator<PrimitivesEvent>;
  close(): Promise<void>;
}
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
export interface DeviceInfo {
  name: "cpu" | "webgpu" | "cuda";
  available: boolean;
  reason?: string;
}

export interface Engines {
  createPrimitives(
    target: RgbaImage,
    options: PrimitivesOptions,
    run?: { workers?: number; signal?: AbortSignal },
  ): Promise<PrimitivesSession>;
  runStyle(inputs: StyleInputs, spec: StyleRunSpec): Promise<StyleResult>;
  listDevices(): Promise<DeviceInfo[]>;
  /** Resolve the weights spec (undefined = the installed weights) and say whether they are there. */
  weights(spec: string | undefined): Promise<{ spec: string; installed: boolean }>;
}

// Specifiers in variables until the engines land in the tree (then they become literal imports).
const PRIMITIVES_ENGINE = "../primitives/engine";
const STYLE_ENGINE = "../style/engine";

export const realEngines: Engines = {
  async createPrimitives(target, options, run) {
    return (await import(PRIMITIVES_ENGINE)).createPrimitives(target, options, run);
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
