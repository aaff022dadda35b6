// `stylize worker`: run jobs from a front door's queue on this machine. bullmq is imported only
// when the command runs, so the default companion never loads it.
import { type Command, Option } from "commander";
import type { Device } from "../../shared/protocol";
import { warmStyle } from "../style/warm";
import { createLogger, LOG_LEVELS, type LogLevel } from "../log";
import { realEngines } from "../server/engines";
import type { ClusterKind } from "./protocol";

interface WorkerFlags {
  queue: string;
  queueCa?: string;
  device?: string;
  concurrency: string;
  threads?: string;
  weights?: string;
  lockMs: string;
  verbose?: boolean;
  logLevel?: LogLevel;
}

function whole(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min} (got "${text}")`);
  return n;
}

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description("take jobs from a `stylize serve --queue` front door's Redis queue and run them here")
    .requiredOption("--queue <url>", "the queue, redis://[user@]HOST[:PORT][/DB] or rediss://… (TLS)")
    .option("--queue-ca <file>", "for rediss://: also trust this CA certificate (PEM)")
    .option("--device <device>", "style transfer device: auto|cuda|webgpu|cpu (default auto)")
    .option("--concurrency <n>", "jobs run at once per kind", "1")
    .option("--threads <n>", "worker threads per primitives job (default: the engine's choice)")
    .option("--weights <spec>", 'VGG-19 weights (.h5 path or "random"); without them this worker takes primitives only')
    .option("--lock-ms <ms>", "how soon a job of a worker that died is retried elsewhere", "30000")
    .option("-v, --verbose", "log each job (info level)")
    .addOption(new Option("--log-level <level>", "what the log shows (default warn)").choices([...LOG_LEVELS]))
    .action(async (flags: WorkerFlags) => {
      const log = createLogger(flags.logLevel ?? (flags.verbose ? "info" : "warn"));
      try {
        if (flags.device && !["auto", "cuda", "webgpu", "cpu"].includes(flags.device)) {
          throw new Error(`--device must be auto, cuda, webgpu or cpu (got "${flags.device}")`);
        }
        const weights = await realEngines.weights(flags.weights);
        const kinds: ClusterKind[] = weights.installed ? ["primitives", "style"] : ["primitives"];
        const { queueTarget } = await import("./queue-url");
        const queue = queueTarget(flags.queue, { caFile: flags.queueCa, warn: (m) => log.warn(m) });
        const { startWorker } = await import("./worker");
        const worker = await startWorker({
          queue,
          kinds,
          concurrency: whole("concurrency", flags.concurrency, 1),
          threads: flags.threads ? whole("threads", flags.threads, 1) : undefined,
          weights: flags.weights,
          device: flags.device as Device | undefined,
          lockMs: whole("lock-ms", flags.lockMs, 500),
          log,
          onFatal: (cause) => {
            console.error(`stylize worker: ${cause}`);
            void worker.close(true).finally(() => process.exit(1));
          },
        });
        if (weights.installed) warmStyle(weights, log, flags.device as Device | undefined);
        console.log(
          `Stylize worker: taking ${kinds.join(" and ")} jobs from ${queue.shown}` +
            (weights.installed ? "" : " (no VGG-19 weights here, so no style jobs)"),
        );
        let stopping = false;
        const stop = () => {
          if (stopping) process.exit(1);
          stopping = true;
          void worker.close().then(() => process.exit(0));
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      } catch (err) {
        console.error(`stylize worker: ${(err as Error).message}`);
        process.exitCode = 1;
      }
    });
}
