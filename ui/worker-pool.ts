// The search workers as Web Workers in the plugin iframe. Figma's iframe has a null origin, where
// blob: workers fail (vitejs/vite#12002): the worker is a data: URL, built by build.mjs. Without
// SharedArrayBuffer there is no flag to poll, so closing the pool terminates the workers.
import type { WorkerInit } from "../shared/primitives/messages";
import { type StartWorker, WorkerPool } from "../shared/primitives/pool";

/** data:text/javascript;base64,… of ui/primitives-worker.ts (set by build.mjs). */
declare const PRIMITIVES_WORKER_URL: string;

const startWebWorker: StartWorker = (init, onMessage, onFailure) => {
  const worker = new Worker(PRIMITIVES_WORKER_URL);
  worker.onmessage = (e) => onMessage(e.data);
  worker.onerror = (e) => onFailure(new Error(`primitives worker failed: ${e.message}`));
  worker.postMessage(init); // its first message is the init (see primitives-worker.ts)
  return { post: (msg) => worker.postMessage(msg), terminate: () => worker.terminate() };
};

/** Starts `count` Web Workers (init made per index) and waits until all have built their model. */
export function startWebWorkerPool(count: number, init: (index: number) => WorkerInit): Promise<WorkerPool> {
  return WorkerPool.start(startWebWorker, count, init);
}
