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
