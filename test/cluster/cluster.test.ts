// Scale-out mode end to end: a real redis-server, the front door (`serve --queue`) in process,
// `stylize worker` child processes from the build, and a WebSocket client like the plugin's.
import { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectFrontDoor, type FrontDoor } from "../../companion/cluster/front-door";
import { QUEUE } from "../../companion/cluster/protocol";
import { queueTarget } from "../../companion/cluster/queue-url";
import type { RunningServer } from "../../companion/server/server";
import type { ServerMessage } from "../../shared/protocol";
import { Client, gradient, png, sleep, start } from "../server/helpers";
import { HAVE_REDIS, NO_REDIS_MESSAGE, RedisServer } from "../../companion/cluster/local-redis";
import { spawnWorker, stopWorker, type WorkerProcess } from "../../companion/cluster/worker-process";

const CLI = "dist/companion/stylize.js";

if (!HAVE_REDIS) {
  if (process.env.CI === "true") throw new Error(NO_REDIS_MESSAGE);
  console.warn(`${NO_REDIS_MESSAGE}: cluster tests skipped`);
}

describe.skipIf(!HAVE_REDIS)("scale-out: serve --queue + stylize worker over a real Redis", () => {
  let redis: RedisServer;
  let door: FrontDoor | undefined;
  let server: RunningServer | undefined;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    await server?.close();
    await door?.close();
    for (const w of workers.splice(0)) await stopWorker(w);
    server = door = undefined;
  });

  async function frontDoor(): Promise<RunningServer> {
    door = await connectFrontDoor(queueTarget(redis.url), (await import("../../companion/log")).silentLogger);
    server = await start({ engines: door.engines, concurrency: { style: 100, primitives: 100 } });
    return server;
  }
  async function worker(...args: string[]): Promise<WorkerProcess> {
    const w = spawnWorker(CLI, redis.url, ["--lock-ms", "1000", "--threads", "1", ...args]);
    workers.push(w);
    await w.ready;
    return w;
  }
  const outcomes = (c: Client, id: string) => c.of(id).filter((m) => ["result", "error", "cancelled"].includes(m.type));
  /** Shape batches must follow on from each other: nothing repeated, nothing skipped. */
  function expectContiguous(c: Client, id: string, count: number): void {
    let next = 0;
    for (const m of c.of(id)) {
      if (m.type !== "shapes") continue;
      expect(m.from).toBe(next);
      next += m.shapes.length;
    }
    expect(next).toBe(count);
  }
  async function failedJob(reason: string, timeoutMs: number): Promise<number | undefined> {
    const q = new Queue(QUEUE.primitives, { connection: { host: "127.0.0.1", port: redis.port } });
    try {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const failed = await q.getFailed();
        const hit = failed.find((j) => j.failedReason === reason);
        if (hit) return hit.finishedOn;
        await sleep(20);
      }
      return undefined;
    } finally {
      await q.close();
    }
  }

  it("runs primitives and style jobs on workers, streaming progress, shapes, previews and results", async () => {
    await frontDoor();
    await worker("--weights", "random:7");
    const c = await Client.connect(server!);
    c.primitives("prim", await gradient(64, 48), { count: 20, workSize: 32, shape: "ellipse", seed: 3 });
    const result = await c.outcome("prim", 30_000);
    expect(result).toMatchObject({ type: "result", kind: "primitives" });
    if (result.type === "result" && result.kind === "primitives") expect(result.result.shapes).toHaveLength(20);
    expect(c.of("prim").some((m) => m.type === "progress")).toBe(true);
    expectContiguous(c, "prim", 20);
    // A flat colour: nothing to draw, and the worker's early end is said through the front door too.
    c.primitives("flat", await png(32, 32, { r: 200, g: 40, b: 40 }), { count: 20, workSize: 32 });
    expect(await c.outcome("flat", 30_000)).toMatchObject({ type: "result", result: { shapes: [] } });
    expect(c.of("flat").filter((m) => m.type === "note" && /^No shapes were added/.test(m.message))).toHaveLength(1);

    const options = { size: 32, iters: 4, previewEvery: 2, device: "cpu", optimizer: "adam" };
    c.json({ type: "style", id: "sty", styles: 1, options });
    c.part("sty", "content", await gradient(48, 32));
    c.part("sty", "style:0", await png(24, 24, { r: 20, g: 180, b: 90 }));
    expect(await c.outcome("sty", 60_000)).toMatchObject({ type: "result", kind: "style", width: 32, device: "cpu" });
    const progress = c.of("sty").filter((m) => m.type === "progress");
    expect(progress.at(-1)).toMatchObject({ done: 4, total: 4 });
    const parts = c.received.flatMap((r) => (r.kind === "binary" && r.header.id === "sty" ? [r.header.part] : []));
    expect(parts).toContain("preview");
    expect(parts).toContain("result");
    expect(c.of("sty").filter((m) => m.type === "note" && /random weights/.test(m.message))).toHaveLength(1);
    expect(c.invalid).toEqual([]);
  }, 90_000);

  it("style waits for a worker with weights; a worker's refusal reaches the plugin in its words", async () => {
    await frontDoor();
    const cpuOnly = await worker("--weights", "/nonexistent/vgg19.h5");
    expect(cpuOnly.output()).toMatch(/taking primitives jobs .*no style jobs/);
    const c = await Client.connect(server!);
    const options = { size: 512, iters: 2, device: "cpu" };
    c.json({ type: "style", id: "big", styles: 1, options });
    c.part("big", "content", await gradient(48, 32));
    c.part("big", "style:0", await png(24, 24));
    await c.next((m) => m.type === "accepted" && m.id === "big");
    await sleep(1500);
    expect(outcomes(c, "big")).toEqual([]); // nobody here can run it

    // A worker with weights but (here) only 1 MB to spend: its memory guard refuses the job.
    workers.push(spawnWorker(CLI, redis.url, ["--weights", "random:1"], { STYLIZE_STYLE_MEM_MB: "1" }));
    await workers.at(-1)!.ready;
    // It reads its weights at start, so that its first style job does not wait for them.
    for (let t = 0; !workers.at(-1)!.output().includes("style weights read"); t += 50) {
      expect(t).toBeLessThan(15_000);
      await sleep(50);
    }
    const refused = await c.outcome("big", 20_000);
    expect(refused).toMatchObject({ type: "error", code: "too-large" });
    if (refused.type === "error") expect(refused.message).toMatch(/512 px style transfer needs about/);
  }, 40_000);

  it("cancel from the plugin, and a disconnect, stop the job on the worker within 1 s", async () => {
    await frontDoor();
    await worker();
    const c = await Client.connect(server!);
    c.primitives("long", await gradient(64, 64), { count: 5000, workSize: 64 });
    await c.next((m) => m.type === "shapes" && m.id === "long", 20_000);
    const t0 = Date.now();
    c.json({ type: "cancel", id: "long" });
    expect(await c.outcome("long", 5000)).toEqual({ type: "cancelled", id: "long" });
    const stoppedAt = await failedJob("cancelled", 3000);
    expect(stoppedAt).toBeDefined();
    expect(stoppedAt! - t0).toBeLessThan(1000);

    const d = await Client.connect(server!);
    d.primitives("gone", await gradient(64, 64), { count: 5000, workSize: 64, seed: 1 });
    await d.next((m) => m.type === "shapes" && m.id === "gone", 20_000);
    const q = new Queue(QUEUE.primitives, { connection: { host: "127.0.0.1", port: redis.port } });
    await q.clean(0, 100, "failed");
    await q.close();
    const t1 = Date.now();
    d.ws.close();
    const goneAt = await failedJob("cancelled", 3000);
    expect(goneAt).toBeDefined();
    expect(goneAt! - t1).toBeLessThan(1000);
  }, 60_000);

  it("a worker killed mid-job (kill -9): another worker finishes it and the plugin gets exactly one result", async () => {
    await frontDoor();
    const first = await worker();
    const c = await Client.connect(server!);
    const count = 400;
    c.primitives("k9", await gradient(64, 64), { count, workSize: 64, seed: 5 });
    await c.next((m) => m.type === "shapes" && m.id === "k9", 20_000);
    await worker(); // the second one is idle until the first one's job stalls
    await stopWorker(first, "SIGKILL");
    const shapesBefore = c.of("k9").filter((m) => m.type === "shapes").length;
    const result = await c.outcome("k9", 60_000);
    expect(result).toMatchObject({ type: "result", kind: "primitives" });
    expect(c.of("k9").filter((m) => m.type === "shapes").length).toBeGreaterThan(shapesBefore); // it went on
    if (result.type === "result" && result.kind === "primitives") expect(result.result.shapes).toHaveLength(count);
    expectContiguous(c, "k9", count);
    await sleep(1500); // a late duplicate would arrive by now
    expect(outcomes(c, "k9")).toHaveLength(1);
  }, 90_000);

  it("Redis restarting: jobs in flight end with queue-unavailable, new ones too, then it recovers", async () => {
    await frontDoor();
    await worker();
    const c = await Client.connect(server!);
    c.primitives("lost", await gradient(64, 64), { count: 5000, workSize: 64 });
    await c.next((m) => m.type === "shapes" && m.id === "lost", 20_000);
    await redis.stop();
    expect(await c.outcome("lost", 5000)).toMatchObject({ type: "error", code: "queue-unavailable" });
    c.primitives("down", await gradient(32, 32), { count: 3, workSize: 16 });
    const down = await c.outcome("down", 5000);
    expect(down).toMatchObject({ type: "error", code: "queue-unavailable" });
    if (down.type === "error") expect(down.message).toMatch(/queue is unavailable/);

    await redis.restart();
    let result: ServerMessage | undefined;
    for (let i = 0; i < 40 && result?.type !== "result"; i++) {
      await sleep(250);
      c.primitives(`again${i}`, await gradient(32, 32), { count: 3, workSize: 16 });
      result = await c.outcome(`again${i}`, 20_000);
    }
    expect(result).toMatchObject({ type: "result", kind: "primitives" });
    await sleep(500);
    expect(outcomes(c, "lost")).toHaveLength(1);
    expect(server!.stats()).toMatchObject({ jobs: 0 });
  }, 90_000);
});
