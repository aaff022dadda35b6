// A pool of search workers. Finds a runnable worker both from the sources (vitest, tsx: the .ts
// file with tsx as loader) and from the bundle (dist/companion/primitives-worker.js beside stylize.js).
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { abortError } from "../errors";
import type { FromWorker, ToWorker, WorkerInit } from "../../shared/primitives/messages";
import type { SearchPool, WorkerReply as Reply } from "../../shared/primitives/session";

/**
 * From the bundle: the built worker beside it. From the sources (vitest, tsx): the worker bundled
 * on the fly with esbuild (a dev dependency) and run as eval'd code, because Node 20 does not
 * apply tsx's loader hooks inside worker threads.
 */
let sourceWorker: Promise<string> | undefined;
async function workerEntry(): Promise<{ entry: string | URL; eval: boolean }> {
  const here = import.meta.url;
  if (!here.endsWith(".ts")) return { entry: new URL("./primitives-worker.js", here), eval: false };
  sourceWorker ??= import("esbuild").then(async (esbuild) => {
    const out = await esbuild.build({
      entryPoints: [fileURLToPath(new URL("./worker.ts", here))],
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      write: false,
      logLevel: "silent",
    });
    return out.outputFiles[0].text;
  });
  return { entry: await sourceWorker, eval: true };
}

class SearchWorker {
  private readonly worker: Worker;
  private pending: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  readonly ready: Promise<void>;

  constructor(entry: { entry: string | URL; eval: boolean }, init: WorkerInit) {
    this.worker = new Worker(entry.entry, { workerData: init, eval: entry.eval });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once("message", (m: FromWorker) => (m.type === "ready" ? resolve() : reject(new Error(m.type))));
      this.worker.once("error", reject);
    });
    this.ready.catch(() => {}); // observed by whoever awaits it
    this.worker.on("message", (m: FromWorker) => {
      if (m.type === "found") this.settle(null, m);
      else if (m.type === "error") this.settle(new Error(`primitives worker failed: ${m.message}`));
    });
    this.worker.on("error", (e) => this.settle(e));
    this.worker.on("exit", () => this.settle(abortError()));
  }

  private settle(err: Error | null, reply?: Reply): void {
    const p = this.pending;
    this.pending = null;
    if (err) this.failure ??= err;
    if (!p) return;
    if (reply) p.resolve(reply);
    else p.reject(err ?? abortError());
  }

  post(msg: ToWorker): void {
    this.worker.postMessage(msg);
  }

  request(msg: ToWorker): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(msg);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

export class Pool implements SearchPool {
  private readonly workers: SearchWorker[];

  private constructor(workers: SearchWorker[]) {
    this.workers = workers;
  }

  /** Starts `count` workers (init made per index) and waits until all have built their model. */
  static async start(count: number, init: (index: number) => WorkerInit): Promise<Pool> {
    const entry = await workerEntry();
    const pool = new Pool(Array.from({ length: count }, (_, i) => new SearchWorker(entry, init(i))));
    try {
      await Promise.all(pool.workers.map((w) => w.ready));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Every worker's answer to the same request. */
  all(msg: ToWorker): Promise<Reply[]> {
    return Promise.all(this.workers.map((w) => w.request(msg)));
  }

  one(index: number, msg: ToWorker): Promise<Reply> {
    return this.workers[index].request(msg);
  }

  broadcast(msg: ToWorker): void {
    for (const w of this.workers) w.post(msg);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
