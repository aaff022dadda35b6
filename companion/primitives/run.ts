// Runs a whole primitives job to the end: what the CLI and the benchmark share.
import type { PrimitivesOptions } from "../../shared/protocol";
import type { ShapeList } from "../../shared/shapes";
import type { RgbaImage } from "../image";
import { createPrimitives, type PrimitivesEvent, type PrimitivesRun } from "./engine";

export interface PrimitivesResult {
  list: ShapeList;
  /** Wall time from starting the workers to the last shape. */
  ms: number;
  workers: number;
  /** The run ended before options.count: no shape lowered the error any more. */
  exhausted: boolean;
}

export async function runPrimitives(
  image: RgbaImage,
  options: PrimitivesOptions,
  run: PrimitivesRun & { workers: number; onShape?: (e: PrimitivesEvent, elapsedMs: number) => void },
): Promise<PrimitivesResult> {
  const t0 = performance.now();
  const session = await createPrimitives(image, options, run);
  const list: ShapeList = {
    width: session.width,
    height: session.height,
    background: session.background,
    ...(session.clip && { clip: session.clip }),
    shapes: [],
    score: session.initialScore,
  };
  try {
    for await (const e of session.shapes()) {
      list.shapes.push(e.shape);
      list.score = e.score;
      run.onShape?.(e, performance.now() - t0);
    }
    const refit = run.signal?.aborted ? null : session.refit();
    if (refit) Object.assign(list, refit);
  } finally {
    await session.close();
  }
  return { list, ms: performance.now() - t0, workers: session.workers, exhausted: session.exhausted };
}
