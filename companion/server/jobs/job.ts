// What a job kind provides to the connection: which binary parts to wait for, how to turn them
// into engine inputs (decoding with the pixel limit), and how to run and stream the result.
import type { FrameHeader } from "../../../shared/frames";
import type { ServerMessage } from "../../../shared/protocol";
import type { ServerConfig } from "../config";
import type { Engines } from "../engines";

export type Part = FrameHeader["part"];

export interface JobIO {
  send(msg: ServerMessage): void;
  sendPart(part: Part, bytes: Uint8Array): void;
  /** True while the socket has a backlog: optional messages (previews) are skipped. */
  congested(): boolean;
}

export interface RunContext {
  io: JobIO;
  signal: AbortSignal;
  engines: Engines;
  config: ServerConfig;
}

export interface JobSpec<I> {
  /** Binary parts that must arrive before the job can be queued. */
  parts: Part[];
  /** Refuse early (before queueing) what cannot run here, e.g. missing weights. */
  preflight?(ctx: Pick<RunContext, "engines" | "config">): Promise<void>;
  prepare(parts: Map<Part, Uint8Array>, maxImagePixels: number): Promise<I>;
  /** Streams progress and sends the final `result`; rejects with AbortError when cancelled. */
  run(inputs: I, ctx: RunContext): Promise<void>;
}

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
