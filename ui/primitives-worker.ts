// Web Worker entry for the in-Figma primitives engine: the same search worker the companion runs
// in worker threads (shared/primitives/worker-core.ts). build.mjs bundles it into a data: URL.
import type { FromWorker, ToWorker, WorkerInit } from "../shared/primitives/messages";
import { createSearchWorker } from "../shared/primitives/worker-core";

// The first message is the init; the rest are search requests.
const scope = self as unknown as { postMessage(m: FromWorker): void; onmessage: ((e: MessageEvent) => void) | null };
let handle: ((msg: ToWorker) => void) | null = null;
scope.onmessage = (e: MessageEvent) => {
  if (handle) return handle(e.data as ToWorker);
  try {
    handle = createSearchWorker(e.data as WorkerInit, (m) => scope.postMessage(m));
    scope.postMessage({ type: "ready" });
  } catch (err) {
    scope.postMessage({ type: "error", message: err instanceof Error ? err.message : String(err) });
  }
};
