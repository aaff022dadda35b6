// Primitives worker thread: the shared search worker (shared/primitives/worker-core.ts) on a Node port.
import { parentPort, workerData } from "node:worker_threads";
import type { FromWorker, ToWorker, WorkerInit } from "../../shared/primitives/messages";
import { createSearchWorker } from "../../shared/primitives/worker-core";

if (!parentPort) throw new Error("primitives worker must run in a worker thread");
const port = parentPort;
const send = (msg: FromWorker) => port.postMessage(msg);
const handle = createSearchWorker(workerData as WorkerInit, send);
port.on("message", (msg: ToWorker) => handle(msg));
send({ type: "ready" });
