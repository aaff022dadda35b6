// A pool of Web Workers running the primitives search in the plugin iframe. Figma's iframe has a
// null origin, where blob: workers fail (vitejs/vite#12002): the worker is a data: URL, built by
// build.mjs. Without SharedArrayBuffer there is no flag to poll, so closing terminates the workers
// and rejects what was pending.
import type { FromWorker, ToWorker, WorkerInit } from "../shared/primitives/messages";
import type { SearchPool, WorkerReply } from "../shared/primitives/session";

/** data:text/javascript;base64,… of ui/primitives-worker.ts (set by build.mjs). */
declare const PRIMITIVES_WORKER_URL: string;

class SearchWorker {
  private readonly worker: Worker;
  private pending: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  readonly ready: Promise<void>;

  constructor(init: WorkerInit) {
    this.worker = new Worker(PRIMITIVES_WORKER_URL);
    this.ready = new Promise((resolve, reject) => {
      this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
        const m = e.data;
        if (m.type === "ready") resolve();
        else if (m.type === "found") this.settle(null, m);
        else this.settle(new Error(`primitives worker failed: ${m.message}`), undefined, reject);
      };
      this.worker.onerror = (e) => this.settle(new Error(`primitives worker failed: ${e.message}`), undefined, reject);
    });
    this.ready.catch(() => {}); // observed by whoever awaits it
    this.worker.postMessage(init);
  }

  private settle(err: Error | null, reply?: WorkerReply, rejectReady?: (e: Error) => void): void {
    if (err) {
      this.failure ??= err;
      rejectReady?.(err);
    }
    const p = this.pending;
    this.pending = null;
    if (!p) return;
    if (reply) p.resolve(reply);
    else p.reject(err ?? new Error("primitives worker stopped"));
  }

  post(msg: ToWorker): void {
    this.worker.postMessage(msg);
  }

  request(msg: ToWorker): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(msg);
    });
  }

  terminate(): void {
    this.worker.terminate();
    this.settle(new Error("primitives worker stopped"));
  }
}

export class BrowserPool implements SearchPool {
  private constructor(private readonly workers: SearchWorker[]) {}

  static async start(count: number, init: (index: number) => WorkerInit): Promise<BrowserPool> {
    const pool = new BrowserPool(Array.from({ length: count }, (_, i) => new SearchWorker(init(i))));
    try {
      await Promise.all(pool.workers.map((w) => w.ready));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

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
    for (const w of this.workers) w.terminate();
  }
}
