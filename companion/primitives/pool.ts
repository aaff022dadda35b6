// The search workers as Node worker threads. Finds a runnable worker both from the sources (vitest,
// tsx: the .ts file with tsx as loader) and from the bundle (dist/companion/primitives-worker.js
// beside stylize.js).
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { WorkerInit } from "../../shared/primitives/messages";
import { type StartWorker, WorkerPool } from "../../shared/primitives/pool";
import { UserError } from "../errors";

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

/** Starts `count` worker threads (init made per index) and waits until all have built their model. */
export async function startThreadPool(count: number, init: (index: number) => WorkerInit): Promise<WorkerPool> {
  const { entry, eval: isEval } = await workerEntry();
  const start: StartWorker = (workerData, onMessage, onFailure) => {
    const worker = new Worker(entry, { workerData, eval: isEval });
    worker.on("message", onMessage);
    worker.on("error", onFailure);
    // After our own terminate() the pool already counts the worker as stopped; any other exit
    // (process.exit in the worker, the runtime killing it) fails the request it was serving.
    worker.on("exit", (code) =>
      onFailure(
        new UserError("internal", `A search worker stopped unexpectedly (exit code ${code}); nothing was made.`),
      ),
    );
    return { post: (msg) => worker.postMessage(msg), terminate: () => worker.terminate() };
  };
  return WorkerPool.start(start, count, init);
}
