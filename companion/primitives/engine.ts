// The primitives engine in Node: validates options, resizes the target with sharp and runs the
// shared engine (shared/primitives/session.ts) on a pool of worker threads.
import { availableParallelism } from "node:os";
import * as v from "valibot";
import { type PrimitivesOptions, PrimitivesOptionsSchema } from "../../shared/protocol";
import type { SearchBudget } from "../../shared/primitives/search";
import { createSession, type PrimitivesSession, workSizeOf } from "../../shared/primitives/session";
import { UserError } from "../errors";
import { type RgbaImage, resizeRgba } from "../image";
import { startThreadPool } from "./pool";

export { DEFAULT_BUDGET, type PrimitivesEvent, type PrimitivesSession } from "../../shared/primitives/session";

export interface PrimitivesRun {
  /** Worker threads (default: the machine's cores). Results depend on the seed only, not on this. */
  workers?: number;
  signal?: AbortSignal;
  /** Search effort per step (benchmarks and tests); defaults to DEFAULT_BUDGET. */
  budget?: SearchBudget;
  /** Focus mask, any size (stretched to the target's): white = detail matters. */
  focus?: RgbaImage;
}

export const MAX_WORKERS = 32;

/** `target` is the decoded full image; the engine resizes it to options.workSize (longest side). */
export async function createPrimitives(
  target: RgbaImage,
  options: PrimitivesOptions,
  run: PrimitivesRun = {},
): Promise<PrimitivesSession> {
  const parsed = v.safeParse(PrimitivesOptionsSchema, options);
  if (!parsed.success) throw new UserError("bad-message", `Invalid primitives options: ${parsed.issues[0].message}`);
  const opts = parsed.output;
  const size = workSizeOf(target.width, target.height, opts.workSize);
  const work = await resizeRgba(target, size.width, size.height);
  const focus = run.focus ? await resizeRgba(run.focus, size.width, size.height) : undefined;
  const workers = Math.max(1, Math.min(MAX_WORKERS, Math.floor(run.workers ?? availableParallelism())));
  return createSession(work, opts, {
    workers,
    startPool: startThreadPool,
    signal: run.signal,
    focus,
    budget: run.budget,
  });
}
