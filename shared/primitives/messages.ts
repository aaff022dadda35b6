// Messages between the engine (main thread) and its search workers (worker_threads or Web Workers).
import type { Color } from "../shapes";
import type { SearchBudget } from "./search";

export interface WorkerInit {
  width: number;
  height: number;
  /** Flattened target RGB, 0..255. */
  target: Float64Array;
  background: Color;
  /** Shape type codes to search (several for combo). */
  codes: number[];
  /** 1..255 fixed, 0 = searched per shape. */
  alpha: number;
  seed: number;
  /** This worker runs climbs index, index + workers, … of each step. */
  index: number;
  workers: number;
  budget: SearchBudget;
  /** Int32Array(1) on a SharedArrayBuffer: non-zero = stop now. Absent where there is no
   * SharedArrayBuffer (a Figma plugin iframe is not cross-origin isolated): stopping terminates the workers. */
  abort?: Int32Array;
  /** Error weight per pixel (focus, and alpha² for a transparent layer); absent = all 1. */
  weights?: Float64Array;
  /** Focus: how much each pixel is in focus (≥ 0); 3 climbs in 4 start their shapes there. */
  focus?: Float64Array;
  /** Allowed colours as flat RGB triples; absent = any colour. */
  palette?: number[];
  /** Two-stop linear gradient fills (see model.energyGradient). */
  gradient?: boolean;
}

/** A found shape in plain data (structured-clone friendly). */
export interface Found {
  code: number;
  p: number[];
  alpha: number;
  color: [number, number, number];
  /** Gradient fills: the far stop's colour and the stops [x1, y1, x2, y2] (`color` sits at x1, y1). */
  gradient?: { color: [number, number, number]; stops: [number, number, number, number] };
  /** Change in total squared error (negative = better). */
  energy: number;
  /** The climb that found it. */
  climb: number;
}

export type ToWorker =
  | { type: "step"; step: number }
  /** Gradient fills: the step's winner, its ramp refined (Searcher.refine). */
  | { type: "refine"; step: number; found: Found }
  | { type: "seed"; iteration: number; minSize: number; startSize: number; tries: number }
  | { type: "draw"; found: Found };

export type FromWorker =
  | { type: "ready" }
  | { type: "found"; found: Found | null; aborted: boolean; iteration?: number }
  | { type: "error"; message: string };
