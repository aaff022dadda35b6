// One job submitted to the queue, seen from the front door: the events its worker streams, then
// exactly one ending (completed, failed, cancelled or queue lost). Anything after the ending —
// a late event, a second completion after a stalled-job retry — is ignored.
import type { WorkerEvent } from "./protocol";

export class RemoteRun {
  private readonly buffer: WorkerEvent[] = [];
  private ending?: { result: unknown } | { error: Error };
  private wake?: () => void;

  /** Stop following the job (cancelling it if it has not ended); set by whoever submitted it. */
  finish: () => void = () => {};

  constructor(readonly jobId: string) {}

  get ended(): boolean {
    return this.ending !== undefined;
  }

  push(ev: WorkerEvent): void {
    if (this.ending) return;
    this.buffer.push(ev);
    this.notify();
  }

  complete(result: unknown): void {
    if (this.ending) return;
    this.ending = { result };
    this.buffer.length = 0; // the result holds everything; events still queued are stale
    this.notify();
  }

  fail(error: Error): void {
    if (this.ending) return;
    this.ending = { error };
    this.buffer.length = 0;
    this.notify();
  }

  /** Yields the events in order; returns the job's result, or throws its error. */
  async *events(): AsyncGenerator<WorkerEvent, unknown> {
    for (;;) {
      const ev = this.buffer.shift();
      if (ev) {
        yield ev;
        continue;
      }
      if (this.ending) {
        if ("error" in this.ending) throw this.ending.error;
        return this.ending.result;
      }
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
