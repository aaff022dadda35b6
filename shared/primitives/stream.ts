// A primitives session as protocol messages: shapes in batches with progress, then the result.
// The companion's job and the plugin's in-Figma runner both stream through this, so the UI sees
// the same messages from either.
import type { PrimitivesOptions, ServerMessage } from "../protocol";
import type { Shape } from "../shapes";
import type { PrimitivesSession } from "./session";

/** Calls `flush` at most every `ms` (or sooner once `max` items are pending). */
export class Batcher<T> {
  private items: T[] = [];
  private last = Date.now();
  constructor(
    private readonly flushFn: (items: T[]) => void,
    private readonly ms = 100,
    private readonly max = 10,
  ) {}
  push(item: T): void {
    this.items.push(item);
    if (this.items.length >= this.max || Date.now() - this.last >= this.ms) this.flush();
  }
  flush(): void {
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.last = Date.now();
    this.flushFn(items);
  }
}

/** What a run that ended before its count says, where the designer looks (session.exhausted). */
export function exhaustedNote(shapes: number, asked: number): string {
  // (the hill climb gives up after FRUITLESS_STEPS searches in a row, the seed variant after its tries)
  return shapes === 0
    ? "No shapes were added: repeated searches found none that brings the result closer to the picture than its background colour alone (is it one flat colour, or fully transparent?)."
    : `Stopped at ${shapes} of ${asked} shapes: repeated searches found no further shape that brings the result closer to the picture.`;
}

/**
 * Runs the session to its end, sending `shapes` + `progress` batches and the final `result`.
 * Returns false (and sends no result) when `signal` aborted it.
 */
export async function streamPrimitives(
  session: PrimitivesSession,
  id: string,
  options: PrimitivesOptions,
  send: (msg: ServerMessage) => void,
  signal?: AbortSignal,
): Promise<boolean> {
  const started = Date.now();
  const { width, height, background } = session;
  const clip = session.clip ? { clip: session.clip } : {};
  const shapes: Shape[] = [];
  let score = session.initialScore;
  const batch = new Batcher<Shape>((items) => {
    const from = shapes.length - items.length;
    send({ type: "shapes", id, width, height, background, ...clip, from, shapes: items, score });
    const done = shapes.length;
    const etaMs = ((Date.now() - started) / done) * (options.count - done);
    send({ type: "progress", id, done, total: options.count, value: score, etaMs: Math.round(etaMs) });
  });
  for await (const ev of session.shapes()) {
    shapes.push(ev.shape);
    score = ev.score;
    batch.push(ev.shape);
  }
  // The engine ends quietly when aborted; a cancelled job must not report a result.
  if (signal?.aborted) return false;
  batch.flush();
  if (session.exhausted) send({ type: "note", id, message: exhaustedNote(shapes.length, options.count) });
  // the shapes as streamed are what a cancel keeps; the result has its colours refitted
  const refit = session.refit();
  const result = { width, height, background, ...clip, ...(refit ?? { shapes, score }) };
  send({ type: "result", kind: "primitives", id, result, ms: Date.now() - started });
  return true;
}
