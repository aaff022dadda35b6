// What `stylize bench primitives --browser` runs in headless Chromium: the in-plugin engine (the
// UI's Web Worker pool over the shared engine) on RGBA pixels the bench passes in.
import type { SearchBudget } from "../shared/primitives/search";
import { createSession } from "../shared/primitives/session";
import type { PrimitivesOptions } from "../shared/protocol";
import type { Shape, ShapeList } from "../shared/shapes";
import { startWebWorkerPool } from "./worker-pool";

async function runPrimitivesInBrowser(
  rgba: number[],
  width: number,
  height: number,
  options: PrimitivesOptions,
  workers: number,
  budget: SearchBudget,
  /** Focus mask RGBA at the same size, if any. */
  focusRgba?: number[],
): Promise<{ list: ShapeList; ms: number; workers: number }> {
  const t0 = performance.now();
  const data = new Uint8ClampedArray(rgba);
  const focus = focusRgba ? { width, height, data: new Uint8ClampedArray(focusRgba) } : undefined;
  const session = await createSession({ width, height, data }, options, {
    workers,
    budget,
    focus,
    startPool: startWebWorkerPool,
  });
  let shapes: Shape[] = [];
  let score = session.initialScore;
  try {
    for await (const e of session.shapes()) {
      shapes.push(e.shape);
      score = e.score;
    }
    const refit = session.refit();
    if (refit) ({ shapes, score } = refit);
  } finally {
    await session.close();
  }
  const list = { width, height, background: session.background, shapes, score };
  return { list, ms: performance.now() - t0, workers: session.workers };
}

(globalThis as Record<string, unknown>).runPrimitivesInBrowser = runPrimitivesInBrowser;
