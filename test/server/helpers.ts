// A real WebSocket client for the server tests, plus small images and fake engines.
import { mkdtempSync, rmSync } from "node:fs";
import { afterAll } from "vitest";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import WebSocket from "ws";
import { decodeFrame, encodeFrame, type FrameHeader } from "../../shared/frames";
import { PROTOCOL_VERSION, parseServerMessage, type ServerMessage } from "../../shared/protocol";
import type { Shape } from "../../shared/shapes";
import type { ServerOptions } from "../../companion/server/config";
import type { Engines, PrimitivesSession } from "../../companion/server/engines";
import { type RunningServer, startServer } from "../../companion/server/server";
import { abortError } from "../../companion/errors";

export type Received = { kind: "json"; msg: ServerMessage } | { kind: "binary"; header: FrameHeader; payload: Buffer };

const tempDirs: string[] = [];
// registered when a test file imports this module: runs after that file's tests
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp folder (token files, users), removed after the test file. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "stylize-server-"));
  tempDirs.push(dir);
  return dir;
}

export function start(opts: ServerOptions = {}): Promise<RunningServer> {
  return startServer({ port: 0, tokenPath: join(tempDir(), "token"), weights: "random", ...opts });
}

/** The HTTP status a WebSocket upgrade to `address`:`port` gets with this Host header (none when empty). */
export function upgradeStatus(port: number, host: string, address = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      port,
      host: address,
      setHost: false, // send exactly the Host given (none when empty)
      headers: {
        ...(host ? { Host: host } : {}),
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on("response", (res) => resolve(res.statusCode ?? 0));
    req.on("error", reject);
    req.end();
  });
}

export async function png(width: number, height: number, rgb = { r: 200, g: 30, b: 60 }): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { ...rgb, alpha: 1 } } })
    .png()
    .toBuffer();
}

/** A gradient, so the primitives engine has something to find. */
export async function gradient(width: number, height: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data.set([(x * 255) / width, (y * 255) / height, 128, 255], i);
    }
  return sharp(data, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}

export class Client {
  readonly received: Received[] = [];
  /** Text messages that did not parse as a ServerMessage (must stay empty). */
  readonly invalid: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
  private waiters: Array<() => void> = [];

  constructor(
    readonly ws: WebSocket,
    readonly token?: string,
  ) {
    ws.on("message", (data, isBinary) => {
      const buf = data as Buffer;
      if (isBinary) {
        const f = decodeFrame(buf);
        if (f.ok) this.received.push({ kind: "binary", header: f.header, payload: Buffer.from(f.payload) });
        else this.invalid.push(`binary: ${f.error}`);
      } else {
        const p = parseServerMessage(buf.toString("utf8"));
        if (p.ok) this.received.push({ kind: "json", msg: p.value });
        else this.invalid.push(`${p.error}: ${buf.toString("utf8").slice(0, 200)}`);
      }
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      ws.on("close", (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      }),
    );
    this.opened = new Promise((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
  }

  static async connect(server: RunningServer, opts: { hello?: boolean } = {}): Promise<Client> {
    const c = new Client(new WebSocket(server.url), server.token);
    await c.opened;
    if (opts.hello !== false) await c.hello(server.token);
    return c;
  }

  async hello(token = this.token ?? ""): Promise<ServerMessage> {
    this.json({ type: "hello", protocol: PROTOCOL_VERSION, token, client: "test" });
    return this.next((m) => m.type === "hello" || m.type === "error");
  }

  json(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  part(id: string, part: FrameHeader["part"], payload: Uint8Array): void {
    this.ws.send(encodeFrame({ id, part }, payload));
  }

  primitives(id: string, image: Uint8Array, options: Record<string, unknown> = {}): void {
    this.json({ type: "primitives", id, options });
    this.part(id, "image", image);
  }

  messages(): ServerMessage[] {
    return this.received.flatMap((r) => (r.kind === "json" ? [r.msg] : []));
  }

  of(id: string): ServerMessage[] {
    return this.messages().filter((m) => "id" in m && m.id === id);
  }

  /** Wait for the first JSON message (received from now on, or already) matching `pred`. */
  async next(pred: (m: ServerMessage) => boolean, timeoutMs = 10_000, from = 0): Promise<ServerMessage> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.messages().slice(from).find(pred);
      if (hit) return hit;
      if (Date.now() > until || this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`no matching message; got ${JSON.stringify(this.messages().map((m) => m.type))}`);
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** The final message of a job: result, error or cancelled. */
  outcome(id: string, timeoutMs?: number): Promise<ServerMessage> {
    return this.next((m) => "id" in m && m.id === id && ["result", "error", "cancelled"].includes(m.type), timeoutMs);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Fake engines: deterministic, fast, honour the abort signal, and record what they did. */
export function fakeEngines(opts: { shapeDelayMs?: number; iterDelayMs?: number; fail?: boolean } = {}) {
  const log = { started: [] as string[], closed: 0, sessions: 0 };
  const engines: Partial<Engines> = {
    async createPrimitives(target, options, run) {
      if (opts.fail) throw new Error("boom in the engine");
      log.sessions++;
      log.started.push(`p:${target.width}x${target.height}:${options.count}`);
      const session: PrimitivesSession = {
        width: target.width,
        height: target.height,
        workers: 1,
        background: { r: 1, g: 2, b: 3, a: 255 },
        initialScore: 0.5,
        async *shapes() {
          for (let i = 0; i < options.count; i++) {
            await sleep(opts.shapeDelayMs ?? 1);
            if (run?.signal?.aborted) return;
            const shape: Shape = { type: "circle", cx: i, cy: i, r: 1, color: { r: i % 256, g: 0, b: 0, a: 128 } };
            yield { index: i, shape, score: 0.5 / (i + 2) };
          }
        },
        refit: () => null,
        exhausted: false,
        async close() {
          log.closed++;
        },
      };
      return session;
    },
    async runStyle(inputs, spec) {
      log.started.push(`s:${inputs.content.width}x${inputs.content.height}:${inputs.styles.length}`);
      const total = spec.options.iters;
      for (let i = 1; i <= total; i++) {
        await sleep(opts.iterDelayMs ?? 1);
        if (spec.signal?.aborted) throw abortError();
        spec.onProgress?.({ iter: i, total, loss: 100 / i, terms: { content: 1 }, scale: 1, scales: 1 });
        if (spec.options.previewEvery && i % spec.options.previewEvery === 0) await spec.onPreview?.(inputs.content, i);
      }
      spec.onNote?.("fake engine");
      return {
        image: inputs.content,
        device: "fake",
        ms: 1,
        iters: total,
        loss: 1,
        evals: total,
        stepMs: 1,
        scales: [],
      };
    },
    async listDevices() {
      return [{ name: "cpu", available: true }];
    },
  };
  return { engines, log };
}
