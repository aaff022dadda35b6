// `stylize bench cluster`: a real redis-server on a loopback port (or the one `--queue` names), a
// front door in this process and 1, then 2 `stylize worker` processes (one thread each); 8 clients
// submit 40 small primitives jobs.
// Then a worker is killed (SIGKILL) mid-run: every job must still end in exactly one result.
import { mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { encodeFrame } from "../../shared/frames";
import { silentLogger } from "../log";
import { machineInfo } from "../machine";
import { connect, testImage } from "../server/load";
import { startServer } from "../server/server";
import { connectFrontDoor } from "./front-door";
import { HAVE_REDIS, NO_REDIS_MESSAGE, RedisServer } from "./local-redis";
import { explainQueueError } from "./queue-errors";
import { type QueueTarget, queueTarget } from "./queue-url";
import { spawnWorker, stopWorker, type WorkerProcess } from "./worker-process";

const CLIENTS = 8;
const JOBS = 40;
const LOCK_MS = 2000;

interface Round {
  done: number;
  lost: number;
  duplicated: number;
  jobsPerS: number;
  p95Ms: number;
}

export function registerClusterBench(bench: Command): void {
  bench
    .command("cluster")
    .description(
      "scale-out mode: front door + 1 then 2 workers over a real redis-server; jobs lost/duplicated, scaling",
    )
    .option("--shapes <n>", "triangles per job", "100")
    .option("--size <px>", "image side (and working size) in pixels", "64")
    .option("--queue <url>", "use this Redis (redis:// or rediss://) instead of starting one")
    .option("--queue-ca <file>", "for rediss://: also trust this CA certificate (PEM)")
    .action(async (flags: { shapes: string; size: string; queue?: string; queueCa?: string }) => {
      if (!flags.queue && !HAVE_REDIS) {
        console.error(`stylize bench cluster: ${NO_REDIS_MESSAGE}`);
        process.exitCode = 1;
        return;
      }
      const shapes = Number(flags.shapes);
      const size = Number(flags.size);
      console.log(
        `Cluster: ${CLIENTS} clients, ${JOBS} primitives jobs (${size}x${size} px, ${shapes} triangles each)`,
      );
      console.log(`Machine: ${machineInfo()}, load average ${loadavg()[0].toFixed(1)} at the start`);
      const redis = flags.queue ? undefined : await RedisServer.start();
      const url = flags.queue ?? redis!.url;
      let target: QueueTarget;
      try {
        target = queueTarget(url, { caFile: flags.queueCa });
        await checkQueue(target);
      } catch (err) {
        console.error(`stylize bench cluster: ${(err as Error).message}`);
        process.exitCode = 1;
        await redis?.stop();
        return;
      }
      console.log(`Queue: ${target.shown}${redis ? " (started for this run)" : ""}`);
      const door = await connectFrontDoor(target, silentLogger);
      const server = await startServer({
        port: 0,
        tokenPath: join(mkdtempSync(join(tmpdir(), "stylize-bench-")), "token"),
        engines: door.engines,
        concurrency: { style: 1000, primitives: 1000 },
        limits: { maxJobsPerClient: JOBS, maxQueue: JOBS },
      });
      const workers: WorkerProcess[] = [];
      const addWorker = async () => {
        const ca = flags.queueCa ? ["--queue-ca", flags.queueCa] : [];
        const w = spawnWorker(process.argv[1], url, ["--threads", "1", "--lock-ms", String(LOCK_MS), ...ca]);
        workers.push(w);
        await w.ready;
        return w;
      };
      const round = async (label: string, during?: () => Promise<void>): Promise<Round> => {
        const r = await submitAll(server.url, server.token, shapes, size, during);
        console.log(
          `${label.padEnd(22)} jobs done ${r.done}/${JOBS}, lost ${r.lost}, duplicated ${r.duplicated}, ` +
            `${r.jobsPerS.toFixed(2)} jobs/s, p95 latency ${(r.p95Ms / 1000).toFixed(2)} s`,
        );
        return r;
      };
      try {
        await addWorker();
        const one = await round("1 worker");
        await addWorker();
        const two = await round("2 workers");
        const killed = await round("2 workers, 1 killed", async () => {
          await new Promise((r) => setTimeout(r, 1500));
          await stopWorker(workers[0], "SIGKILL");
        });
        const lost = one.lost + two.lost + killed.lost;
        const duplicated = one.duplicated + two.duplicated + killed.duplicated;
        console.log(`lost ${lost} duplicated ${duplicated} scaling 2w/1w=${(two.jobsPerS / one.jobsPerS).toFixed(2)}`);
        if (lost || duplicated) process.exitCode = 1;
      } finally {
        await server.close();
        await door.close();
        for (const w of workers) await stopWorker(w);
        await redis?.stop();
      }
    });
}

/** A queue that cannot be reached fails the bench at once, with the cause, not as 40 lost jobs. */
async function checkQueue(target: QueueTarget): Promise<void> {
  const { Redis } = await import("ioredis");
  const client = new Redis({ ...target.redis, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let first: Error | undefined; // the cause; the rejection itself only says "Connection is closed"
  client.on("error", (err) => {
    first ??= err;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new Error((await explainQueueError(first ?? (err as Error), target)).cause);
  } finally {
    client.disconnect();
  }
}

/** CLIENTS clients submit JOBS jobs between them, all at once; `during` runs alongside. */
async function submitAll(
  url: string,
  token: string,
  shapes: number,
  size: number,
  during?: () => Promise<void>,
): Promise<Round> {
  const latencies: number[] = [];
  let done = 0;
  let lost = 0;
  let duplicated = 0;
  const t0 = Date.now();
  const side = during?.();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, ci) => {
      const image = await testImage(size, ci);
      const client = await connect(url, token);
      const ids = Array.from({ length: JOBS / CLIENTS }, (_, ji) => `c${ci}-j${ji}`);
      await Promise.all(
        ids.map(async (id, ji) => {
          const sent = Date.now();
          client.ws.send(
            JSON.stringify({ type: "primitives", id, options: { count: shapes, workSize: size, seed: ji } }),
          );
          client.ws.send(encodeFrame({ id, part: "image" }, image));
          const end = await client.outcome(id);
          if (end.type === "result") {
            done++;
            latencies.push(Date.now() - sent);
          } else lost++;
        }),
      );
      await new Promise((r) => setTimeout(r, 300)); // a late duplicate would arrive by now
      duplicated += [...client.finals.values()].filter((n) => n > 1).length;
      client.ws.close();
    }),
  );
  const wallMs = Date.now() - t0;
  await side;
  latencies.sort((a, b) => a - b);
  return {
    done,
    lost,
    duplicated,
    jobsPerS: (done / wallMs) * 1000,
    p95Ms: latencies[Math.min(latencies.length - 1, Math.floor(0.95 * latencies.length))] ?? 0,
  };
}
