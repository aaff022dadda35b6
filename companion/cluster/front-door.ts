// `stylize serve --queue redis://…`: the companion the plugin talks to keeps authenticating,
// validating and streaming exactly as before, but its engines are stand-ins that put each job on
// a BullMQ queue and turn what a worker publishes back into the engine's events and result.
// Loaded only in queue mode, so the default companion never imports bullmq or needs Redis.
import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import type { Shape } from "../../shared/shapes";
import { abortError, UserError } from "../errors";
import type { Logger } from "../log";
import type { Engines, PrimitivesSession } from "../server/engines";
import {
  CANCEL_CHANNEL,
  type ClusterKind,
  cancelledKey,
  eventsChannel,
  fromPng64,
  type PrimitivesDone,
  QUEUE,
  type StyleDone,
  toPng64,
  USER_ERROR_PREFIX,
  type WorkerEvent,
  type WorkerEventBody,
} from "./protocol";
import { explainQueueError } from "./queue-errors";
import type { QueueTarget } from "./queue-url";
import { RemoteRun } from "./remote-run";

export interface FrontDoor {
  engines: Partial<Engines>;
  close(): Promise<void>;
}

const UNAVAILABLE = "The job queue is unavailable (Redis is not answering); try again in a moment.";
/** Finished jobs stay in Redis this long, so re-adding the same id is a no-op, never a second run. */
const KEEP_S = 3600;
/** How long start-up waits for Redis before serving anyway. */
const READY_WAIT_MS = 3000;
const CLOSE_WAIT_MS = 1000;

export async function connectFrontDoor(target: QueueTarget, log: Logger): Promise<FrontDoor> {
  // Imported here, not at the top: the bundle would otherwise load them for every command.
  const { Queue, QueueEvents } = await import("bullmq");
  const { Redis } = await import("ioredis");
  const name = randomUUID();
  const { redis, shown: queue } = target;
  // Commands fail at once while Redis is away (no offline queue), so the plugin hears about it.
  const connection = { ...redis, enableOfflineQueue: false, maxRetriesPerRequest: 1 };
  const pub = new Redis(connection);
  const sub = new Redis({ ...redis, maxRetriesPerRequest: null });
  const queues = {
    primitives: new Queue(QUEUE.primitives, { connection }),
    style: new Queue(QUEUE.style, { connection }),
  };
  const listeners = {
    primitives: new QueueEvents(QUEUE.primitives, { connection: { ...redis, maxRetriesPerRequest: null } }),
    style: new QueueEvents(QUEUE.style, { connection: { ...redis, maxRetriesPerRequest: null } }),
  };
  const runs = new Map<string, RemoteRun>();
  let up = false;
  let everUp = false;

  // Designers hear "unavailable"; the cause goes to the log once (ioredis retries every few seconds).
  let lastCause = "";
  pub.on("error", (err) => {
    void explainQueueError(err, target).then(({ cause, config }) => {
      if (cause === lastCause) return;
      lastCause = cause;
      if (config) log.error(`job queue unavailable: ${cause}`);
      else log.warn(`job queue unavailable: ${cause}`);
    });
  });
  sub.on("error", (err) => log.debug({ err: target.hide(err.message) }, "redis error"));
  const onQueueError = (err: Error) => log.debug({ err: target.hide(err.message) }, "queue error");
  for (const q of Object.values(queues)) q.on("error", onQueueError);
  for (const q of Object.values(listeners)) q.on("error", onQueueError);
  pub.on("ready", () => {
    if (everUp && !up) log.warn({ queue }, "job queue available again");
    else if (lastCause) log.warn({ queue }, "job queue available");
    up = everUp = true;
    lastCause = "";
  });
  // Redis went away: jobs in it may be gone, so every job in flight ends now with plain words
  // (exactly one outcome) rather than waiting for a result that may never come.
  pub.on("close", () => {
    if (up) log.warn({ queue }, "job queue unavailable");
    up = false;
    for (const run of runs.values()) run.fail(new UserError("queue-unavailable", UNAVAILABLE));
  });

  sub.on("message", (_channel, text) => {
    try {
      const ev = JSON.parse(text) as WorkerEvent;
      runs.get(ev.jobId)?.push(ev);
    } catch {
      log.warn("ignored an unreadable event on the job queue's channel");
    }
  });
  // ioredis keeps this subscription and bullmq its listeners through a refused start (a password
  // fixed on Redis's side later): both carry on once Redis lets them in (tested).
  const ready = Promise.all([
    sub.subscribe(eventsChannel(name)),
    ...Object.values(listeners).map((events) => events.waitUntilReady()),
  ]);
  ready.catch((err) => log.debug({ err: target.hide(err.message) }, "could not listen to the job queue yet"));
  for (const events of Object.values(listeners)) {
    events.on("completed", ({ jobId, returnvalue }) => {
      const value = typeof returnvalue === "string" ? JSON.parse(returnvalue) : returnvalue;
      runs.get(jobId)?.complete(value);
    });
    events.on("failed", ({ jobId, failedReason }) => runs.get(jobId)?.fail(workerError(failedReason)));
  }
  // Start anyway when Redis is not there yet: jobs get "queue unavailable" until it answers.
  const timeout = delay(READY_WAIT_MS, "timeout" as const, { ref: false });
  const settled = ready.then(
    () => "ready" as const,
    () => "failed" as const, // the cause is logged above; serve anyway
  );
  if ((await Promise.race([settled, timeout])) === "timeout") {
    log.warn({ queue }, 'Redis is not answering yet; jobs get "queue unavailable" until it does');
  }

  async function submit(kind: ClusterKind, data: object, signal?: AbortSignal): Promise<RemoteRun> {
    if (signal?.aborted) throw abortError();
    const jobId = randomUUID();
    const run = new RemoteRun(jobId);
    runs.set(jobId, run);
    const cancel = () => {
      run.fail(abortError());
      // Best effort: a waiting job is removed; a running one hears the cancel and stops.
      pub.set(cancelledKey(jobId), "1", "EX", KEEP_S).catch(() => {});
      pub.publish(CANCEL_CHANNEL, jobId).catch(() => {});
      queues[kind].remove(jobId).catch(() => {});
    };
    signal?.addEventListener("abort", cancel, { once: true });
    try {
      if (!up) throw new UserError("queue-unavailable", UNAVAILABLE);
      await queues[kind]
        .add(
          kind,
          { ...data, replyTo: name },
          {
            jobId,
            attempts: 1, // a job that failed stays failed; a worker that died is handled as a stall
            removeOnComplete: { age: KEEP_S },
            removeOnFail: { age: KEEP_S },
          },
        )
        .catch((err) => {
          log.warn({ err: target.hide(err.message) }, "could not enqueue a job");
          throw new UserError("queue-unavailable", UNAVAILABLE);
        });
    } catch (err) {
      forget(run, signal, cancel);
      throw err;
    }
    run.finish = () => {
      if (!run.ended) cancel();
      forget(run, signal, cancel);
    };
    return run;
  }

  function forget(run: RemoteRun, signal: AbortSignal | undefined, cancel: () => void): void {
    runs.delete(run.jobId);
    signal?.removeEventListener("abort", cancel);
  }

  const engines: Partial<Engines> = {
    async createPrimitives(target, options, { signal } = {}) {
      const run = await submit("primitives", { image: await toPng64(target), options }, signal);
      const events = run.events();
      let first: IteratorResult<WorkerEvent, unknown>;
      try {
        first = await events.next();
      } catch (err) {
        run.finish();
        throw err;
      }
      const start = first.done ? (first.value as PrimitivesDone).started : first.value;
      if (start.t !== "started") throw new Error("the worker's first event was not `started`");
      return remoteSession(run, events, start, first.done ? (first.value as PrimitivesDone) : undefined);
    },

    async runStyle(inputs, spec) {
      const masks = inputs.masks && (await Promise.all(inputs.masks.map((m) => (m ? toPng64(m) : ""))));
      const data = {
        content: await toPng64(inputs.content),
        styles: await Promise.all(inputs.styles.map(toPng64)),
        ...(masks ? { masks } : {}),
        options: spec.options,
      };
      const run = await submit("style", data, spec.signal);
      const notes = new Set<string>(); // a retried job says its notes again
      try {
        const events = run.events();
        for (;;) {
          const next = await events.next();
          if (next.done) {
            const done = next.value as StyleDone;
            return { ...done, image: await fromPng64(done.image) };
          }
          const ev = next.value;
          if (ev.t === "progress") spec.onProgress?.(ev);
          else if (ev.t === "note" && !notes.has(ev.message)) {
            notes.add(ev.message);
            spec.onNote?.(ev.message);
          } else if (ev.t === "preview") await spec.onPreview?.(await fromPng64(ev.png), ev.iter);
        }
      } finally {
        run.finish();
      }
    },

    // The workers have the devices and weights; the front door needs neither.
    async listDevices() {
      return [{ name: "cpu", available: true, reason: "jobs run on the queue's workers" }];
    },
    async weights() {
      return { spec: "on the queue's workers", installed: true };
    },
  };

  return {
    engines,
    async close() {
      for (const run of runs.values()) run.fail(new UserError("queue-unavailable", "The companion is shutting down."));
      const all = [...Object.values(queues), ...Object.values(listeners)];
      // A graceful close waits for Redis; when Redis is away, give up after a moment.
      const graceful = Promise.allSettled(all.map((q) => q.close()));
      await Promise.race([graceful, delay(CLOSE_WAIT_MS, undefined, { ref: false })]);
      pub.disconnect();
      sub.disconnect();
    },
  };
}

function remoteSession(
  run: RemoteRun,
  events: AsyncGenerator<WorkerEvent, unknown>,
  start: Extract<WorkerEventBody, { t: "started" }>,
  finished?: PrimitivesDone,
): PrimitivesSession {
  let ended = finished;
  return {
    width: start.width,
    height: start.height,
    background: start.background,
    initialScore: start.initialScore,
    workers: 0,
    async *shapes() {
      let next = 0;
      let done = finished;
      try {
        while (!done) {
          const item = await events.next();
          if (item.done) done = ended = item.value as PrimitivesDone;
          else if (item.value.t === "shape" && item.value.index === next) {
            next++;
            yield { index: item.value.index, shape: item.value.shape, score: item.value.score };
          }
        }
      } catch (err) {
        if ((err as Error).name === "AbortError") return; // like the engine: cancelled = ends quietly
        throw err;
      }
      for (; next < done.shapes.length; next++) {
        yield { index: next, shape: done.shapes[next] as Shape, score: done.scores[next] };
      }
    },
    refit: () => ended?.refit ?? null,
    get exhausted() {
      return ended?.exhausted === true;
    },
    async close() {
      run.finish();
    },
  };
}

function workerError(reason: string): Error {
  if (reason === "cancelled") return abortError();
  if (reason.startsWith(USER_ERROR_PREFIX)) {
    const { code, message } = JSON.parse(reason.slice(USER_ERROR_PREFIX.length));
    return new UserError(code, message);
  }
  return new Error(`a worker failed: ${reason}`);
}
