// `stylize worker --queue redis://…`: takes jobs of the kinds this machine can do from BullMQ,
// runs them with the real engines and publishes their events to the front door that asked.
// A worker killed mid-job loses its lock; BullMQ's stalled-job check hands the job to another.
import { setTimeout as delay } from "node:timers/promises";
import type { Job } from "bullmq";
import type { Device } from "../../shared/protocol";
import { isAbortError, UserError } from "../errors";
import type { Logger } from "../log";
import { realEngines } from "../server/engines";
import {
  CANCEL_CHANNEL,
  type ClusterKind,
  cancelledKey,
  eventsChannel,
  fromPng64,
  type PrimitivesDone,
  type PrimitivesJobData,
  QUEUE,
  type StyleDone,
  type StyleJobData,
  toPng64,
  USER_ERROR_PREFIX,
  type WorkerEventBody,
} from "./protocol";
import { explainQueueError } from "./queue-errors";
import type { QueueTarget } from "./queue-url";

export interface WorkerOptions {
  queue: QueueTarget;
  kinds: ClusterKind[];
  /** Jobs this process runs at once (per kind). */
  concurrency: number;
  /** Worker threads per primitives job. */
  threads?: number;
  /** VGG-19 weights spec for style jobs (undefined = the installed weights). */
  weights?: string;
  /** Device for style jobs that ask for "auto" (a job naming a device keeps it). */
  device?: Device;
  /** How long a job's lock lasts: a killed worker's job is retried elsewhere after about this long. */
  lockMs: number;
  log: Logger;
  /**
   * A configuration fault after start-up (a password or certificate changed): the cause in one line.
   * Faults before start-up reject `startWorker` instead; Redis merely away is waited for.
   */
  onFatal?(cause: string): void;
}

export interface RunningWorker {
  /** Stop taking jobs; with `force`, abandon running ones too. */
  close(force?: boolean): Promise<void>;
}

export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  // Imported here, not at the top: the bundle would otherwise load them for every command.
  const { UnrecoverableError, Worker } = await import("bullmq");
  const { Redis } = await import("ioredis");
  const { hide, shown: queue } = opts.queue;
  const connection = { ...opts.queue.redis, maxRetriesPerRequest: null };
  const pub = new Redis(connection);
  const sub = new Redis(connection);
  const running = new Map<string, AbortController>();
  // A wrong password, TLS on one side only or an untrusted certificate will not mend by waiting:
  // the worker stops with the cause, so whoever runs it (a shell, systemd) sees it. Redis being
  // away (restarting, network) mends by itself: the worker waits and says why, once per cause.
  let started = false;
  let failStart: (err: Error) => void = () => {};
  const startFailed = new Promise<never>((_, reject) => {
    failStart = reject;
  });
  startFailed.catch(() => {});
  let lastCause = "";
  pub.on("error", (err) => {
    void explainQueueError(err, opts.queue).then(({ cause, config }) => {
      if (config) {
        if (!started) failStart(new QueueFault(cause));
        else if (cause !== lastCause) opts.onFatal?.(cause);
      } else if (cause !== lastCause) opts.log.warn(`waiting for the job queue: ${cause}`);
      lastCause = cause;
    });
  });
  pub.on("ready", () => {
    lastCause = "";
  });
  sub.on("error", (err) => opts.log.debug({ err: hide(err.message) }, "redis error"));
  sub.on("message", (_channel, jobId) => running.get(jobId)?.abort());
  // Redis went away: the front door has already told each plugin its job failed (and a cancel sent
  // meanwhile is lost), so stop the jobs in hand rather than stay busy with work nobody awaits.
  pub.on("close", () => {
    for (const a of running.values()) a.abort();
  });
  const listening = sub.subscribe(CANCEL_CHANNEL);

  const process = async (job: Job): Promise<PrimitivesDone | StyleDone> => {
    const jobId = job.id!;
    const abort = new AbortController();
    running.set(jobId, abort);
    const publish = (ev: WorkerEventBody) => {
      pub.publish(eventsChannel(job.data.replyTo), JSON.stringify({ jobId, ...ev })).catch(() => {});
    };
    try {
      if (await pub.exists(cancelledKey(jobId))) abort.abort();
      opts.log.info({ jobId, kind: job.name }, "job started");
      return job.name === "style"
        ? await runStyle(job.data as StyleJobData, abort.signal, publish, opts)
        : await runPrimitives(job.data as PrimitivesJobData, abort.signal, publish, opts);
    } catch (err) {
      if (isAbortError(err)) throw new UnrecoverableError("cancelled");
      if (err instanceof UserError) {
        throw new UnrecoverableError(USER_ERROR_PREFIX + JSON.stringify({ code: err.code, message: err.message }));
      }
      opts.log.error({ jobId, err }, "job failed");
      throw err;
    } finally {
      running.delete(jobId);
      opts.log.info({ jobId }, "job ended");
    }
  };

  const workers = opts.kinds.map((kind) => {
    const w = new Worker(QUEUE[kind], process, {
      connection,
      concurrency: opts.concurrency,
      lockDuration: opts.lockMs,
      stalledInterval: opts.lockMs,
      maxStalledCount: 2,
    });
    // Connection faults are explained once above; the rest (a lost lock…) is worth a warning.
    w.on("error", (err) => {
      const connectionFault = (err as NodeJS.ErrnoException).code || /^[A-Z]+ |Connection is closed/.test(err.message);
      opts.log[connectionFault ? "debug" : "warn"]({ err: hide(err.message) }, "worker error");
    });
    return w;
  });
  const close = async (force = false) => {
    if (force) for (const a of running.values()) a.abort();
    // A worker that never reached Redis may wait for it forever to close: give it a moment.
    await Promise.race([Promise.all(workers.map((w) => w.close(force))), delay(1000, undefined, { ref: false })]);
    pub.disconnect();
    sub.disconnect();
  };
  const ready = Promise.all(workers.map((w) => w.waitUntilReady()));
  const slow = setTimeout(() => opts.log.warn({ queue }, "waiting for Redis to answer"), 3000);
  try {
    await Promise.race([Promise.all([ready, listening]), startFailed]);
  } catch (err) {
    await close(true);
    if (err instanceof QueueFault) throw err;
    // bullmq may give up first with ioredis's own words: say them plainly too.
    throw new QueueFault((await explainQueueError(err as Error, opts.queue)).cause);
  } finally {
    clearTimeout(slow);
  }
  started = true;
  return { close };
}

/** A queue fault already said in plain words. */
class QueueFault extends Error {}

type Publish = (ev: WorkerEventBody) => void;

async function runPrimitives(
  data: PrimitivesJobData,
  signal: AbortSignal,
  publish: Publish,
  opts: WorkerOptions,
): Promise<PrimitivesDone> {
  const target = await fromPng64(data.image);
  const session = await realEngines.createPrimitives(target, data.options, { workers: opts.threads, signal });
  try {
    const { width, height, background, initialScore } = session;
    const started = { t: "started" as const, width, height, background, initialScore };
    publish(started);
    const done: PrimitivesDone = { started, shapes: [], scores: [] };
    for await (const ev of session.shapes()) {
      done.shapes.push(ev.shape);
      done.scores.push(ev.score);
      publish({ t: "shape", ...ev });
    }
    if (signal.aborted) throw new DOMException("cancelled", "AbortError");
    done.refit = session.refit();
    done.exhausted = session.exhausted;
    return done;
  } finally {
    await session.close();
  }
}

async function runStyle(
  data: StyleJobData,
  signal: AbortSignal,
  publish: Publish,
  opts: WorkerOptions,
): Promise<StyleDone> {
  const inputs = {
    content: await fromPng64(data.content),
    styles: await Promise.all(data.styles.map(fromPng64)),
    masks: data.masks && (await Promise.all(data.masks.map((m) => (m ? fromPng64(m) : undefined)))),
  };
  const weights = (await realEngines.weights(opts.weights)).spec;
  const result = await realEngines.runStyle(inputs, {
    options: data.options.device === "auto" && opts.device ? { ...data.options, device: opts.device } : data.options,
    weights,
    signal,
    onProgress: (p) => publish({ t: "progress", ...p }),
    onNote: (message) => publish({ t: "note", message }),
    onPreview: async (img, iter) => publish({ t: "preview", png: await toPng64(img), iter }),
  });
  return { ...result, image: await toPng64(result.image) };
}
