// A pool of search workers over whatever runs them (Node worker threads, Web Workers): each
// runtime only says how to start one worker, post to it and stop it.
import type { FromWorker, ToWorker, WorkerInit } from "./messages";
import type { SearchPool, WorkerReply } from "./session";

/** A started worker, as the runtime provides it. */
export interface WorkerPort {
  post(msg: ToWorker): void;
  terminate(): unknown;
}

/**
 * Starts a worker for `init`; the runtime passes every message the worker sends to `onMessage`
 * and any failure (a crash, an exit, a load error) to `onFailure`.
 */
export type StartWorker = (
  init: WorkerInit,
  onMessage: (msg: FromWorker) => void,
  onFailure: (err: Error) => void,
) => WorkerPort;

const stopped = () => Object.assign(new Error("primitives worker stopped"), { name: "AbortError" });

/** One worker with at most one request in flight; after a failure every request fails with it. */
class SearchWorker {
  private readonly port: WorkerPort;
  private pending: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  readonly ready: Promise<void>;

  constructor(start: StartWorker, init: WorkerInit) {
    let ready!: () => void;
    let notReady!: (e: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      ready = resolve;
      notReady = reject;
    });
    this.ready.catch(() => {}); // observed by whoever awaits it
    const fail = (err: Error) => {
      this.failure ??= err;
      notReady(err);
      this.settle(err);
    };
    this.port = start(
      init,
      (m) => {
        if (m.type === "ready") ready();
        else if (m.type === "found") this.settle(null, m);
        else fail(new Error(`primitives worker failed: ${m.message}`));
      },
      fail,
    );
  }

  private settle(err: Error | null, reply?: WorkerReply): void {
    const p = this.pending;
    this.pending = null;
    if (!p) return;
    if (reply) p.resolve(reply);
    else p.reject(err ?? stopped());
  }

  post(msg: ToWorker): void {
    this.port.post(msg);
  }

  request(msg: ToWorker): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.port.post(msg);
    });
  }

  async terminate(): Promise<void> {
    this.failure ??= stopped();
    this.settle(this.failure);
    await this.port.terminate();
  }
}

export class WorkerPool implements SearchPool {
  private constructor(private readonly workers: SearchWorker[]) {}

  /** Starts `count` workers (init made per index) and waits until all have built their model. */
  static async start(start: StartWorker, count: number, init: (index: number) => WorkerInit): Promise<WorkerPool> {
    const pool = new WorkerPool(Array.from({ length: count }, (_, i) => new SearchWorker(start, init(i))));
    try {
      await Promise.all(pool.workers.map((w) => w.ready));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Every worker's answer to the same request. */
  all(msg: ToWorker): Promise<WorkerReply[]> {
    return Promise.all(this.workers.map((w) => w.request(msg)));
  }

  one(index: number, msg: ToWorker): Promise<WorkerReply> {
    return this.workers[index].request(msg);
  }

  broadcast(msg: ToWorker): void {
    for (const w of this.workers) w.post(msg);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
