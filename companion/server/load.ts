// The load test behind `stylize bench load`: many paired clients submit small primitives jobs at
// once against an in-process server; every job must finish or get a clean `busy`, and memory
// must stay under a bound. Kept apart from the command so it can be reused programmatically.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import WebSocket from "ws";
import { encodeFrame } from "../../shared/frames";
import { PROTOCOL_VERSION, parseServerMessage, type ServerMessage } from "../../shared/protocol";
import type { ServerOptions } from "./config";
import { startServer } from "./server";

export interface LoadSpec {
  clients: number;
  jobsPerClient: number;
  /** Shapes per job. */
  shapes: number;
  /** Image side in pixels (also the engine's working size). */
  size: number;
  server?: ServerOptions;
}

export interface LoadReport {
  jobs: number;
  completed: number;
  busy: number;
  /** Anything else: errors other than busy, cancellations, invalid messages, dropped sockets. */
  failed: string[];
  latencyMs: { p50: number; p95: number; max: number };
  wallMs: number;
  rssMb: { baseline: number; peak: number; end: number };
  leftover: { jobs: number; clients: number };
}

export async function runLoad(spec: LoadSpec): Promise<LoadReport> {
  const dir = mkdtempSync(join(tmpdir(), "stylize-load-"));
  const server = await startServer({
    port: 0,
    tokenPath: join(dir, "token"),
    weights: "random",
    ...spec.server,
    engines: { listDevices: async () => [{ name: "cpu", available: true }], ...spec.server?.engines },
  });
  const mb = () => Math.round(process.memoryUsage().rss / 2 ** 20);
  const baseline = mb();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, mb());
  }, 50);

  const latencies: number[] = [];
  const failed: string[] = [];
  let completed = 0;
  let busy = 0;
  const t0 = Date.now();
  try {
    await Promise.all(
      Array.from({ length: spec.clients }, async (_, ci) => {
        const image = await testImage(spec.size, ci);
        const client = await connect(server.url, server.token);
        try {
          await Promise.all(
            Array.from({ length: spec.jobsPerClient }, async (_, ji) => {
              const id = `c${ci}-j${ji}`;
              const sent = Date.now();
              const options = { count: spec.shapes, workSize: spec.size, seed: ci * 100 + ji };
              client.ws.send(JSON.stringify({ type: "primitives", id, options }));
              client.ws.send(encodeFrame({ id, part: "image" }, image));
              const end = await client.outcome(id);
              if (end.type === "result") {
                completed++;
                latencies.push(Date.now() - sent);
              } else if (end.type === "error" && end.code === "busy") busy++;
              else failed.push(`${id}: ${JSON.stringify(end).slice(0, 200)}`);
            }),
          );
          failed.push(...client.invalid);
        } finally {
          client.ws.close();
        }
      }),
    );
  } finally {
    clearInterval(sampler);
  }
  const wallMs = Date.now() - t0;
  // Results go out before a job's workers are shut down, and sockets close asynchronously:
  // give both a moment before checking that nothing was left behind.
  for (let i = 0; i < 100 && (server.stats().jobs > 0 || server.stats().clients > 0); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const stats = server.stats();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    jobs: spec.clients * spec.jobsPerClient,
    completed,
    busy,
    failed,
    latencyMs: { p50: pct(0.5), p95: pct(0.95), max: latencies.at(-1) ?? 0 },
    wallMs,
    rssMb: { baseline, peak: Math.max(peak, mb()), end: mb() },
    leftover: { jobs: stats.jobs, clients: stats.clients },
  };
}

/** A small picture that differs per client, so the engine has real work. */
export async function testImage(size: number, seed: number): Promise<Buffer> {
  const data = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      const inCircle = (x - size / 2) ** 2 + (y - size / 2) ** 2 < (size / 3) ** 2;
      data[i] = (x * 255) / size;
      data[i + 1] = inCircle ? 40 : (seed * 37) % 256;
      data[i + 2] = (y * 255) / size;
      data[i + 3] = 255;
    }
  return sharp(data, { raw: { width: size, height: size, channels: 4 } })
    .png()
    .toBuffer();
}

export interface LoadClient {
  ws: WebSocket;
  invalid: string[];
  /** Final messages (result, error, cancelled) seen per job id: more than one would be a bug. */
  finals: Map<string, number>;
  outcome(id: string): Promise<ServerMessage>;
}

export async function connect(url: string, token: string): Promise<LoadClient> {
  const ws = new WebSocket(url);
  const invalid: string[] = [];
  const finals = new Map<string, number>();
  const waiting = new Map<string, (m: ServerMessage) => void>();
  let hello: (m: ServerMessage) => void = () => {};
  const paired = new Promise<ServerMessage>((r) => {
    hello = r;
  });
  ws.on("message", (data, isBinary) => {
    if (isBinary) return;
    const p = parseServerMessage(String(data));
    if (!p.ok) return void invalid.push(p.error);
    const m = p.value;
    if (m.type === "hello" || (m.type === "error" && !m.id)) hello(m);
    else if ((m.type === "result" || m.type === "error" || m.type === "cancelled") && m.id) {
      finals.set(m.id, (finals.get(m.id) ?? 0) + 1);
      waiting.get(m.id)?.(m);
    }
  });
  ws.on("close", (code) => {
    for (const [id, done] of waiting) done({ type: "error", id, code: "internal", message: `socket closed (${code})` });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  ws.send(JSON.stringify({ type: "hello", protocol: PROTOCOL_VERSION, token, client: "bench-load" }));
  const reply = await paired;
  if (reply.type !== "hello") throw new Error(`pairing failed: ${JSON.stringify(reply)}`);
  return {
    ws,
    invalid,
    finals,
    outcome: (id) => new Promise((resolve) => waiting.set(id, resolve)),
  };
}
