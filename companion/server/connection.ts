// One WebSocket client: the pairing handshake, message dispatch, collecting a job's binary parts,
// and turning each job's outcome into exactly one `result`, `error` or `cancelled`.
import type { WebSocket } from "ws";
import { decodeFrame, encodeFrame } from "../../shared/frames";
import {
  type ClientMessage,
  type ErrorCode,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ServerMessage,
} from "../../shared/protocol";
import { isAbortError, UserError } from "../errors";
import type { Logger } from "../log";
import type { ServerConfig } from "./config";
import type { Engines } from "./engines";
import type { JobIO, JobSpec, Part } from "./jobs/job";
import { primitivesJob } from "./jobs/primitives";
import { styleJob } from "./jobs/style";
import type { Job, JobQueue } from "./queue";
import { tokenMatches } from "./token";

/** WebSocket close codes we use. */
export const CLOSE = { goingAway: 1001, policy: 1008, tooBig: 1009 } as const;

/** Above this many unsent bytes, previews are skipped. */
const CONGESTED_BYTES = 4 * 1024 * 1024;
/** Remember refused job ids for a while so their parts are dropped silently, not answered one by one. */
const REFUSED_MEMORY = 64;

interface Collecting {
  job: Job;
  spec: JobSpec<unknown>;
  parts: Map<Part, Uint8Array>;
  bytes: number;
  timer: ReturnType<typeof setTimeout>;
}

export interface ServerContext {
  config: ServerConfig;
  engines: Engines;
  queue: JobQueue;
  token: string;
  log: Logger;
  hello(): Promise<ServerMessage>;
  shuttingDown(): boolean;
}

export class Connection {
  private authed = false;
  private readonly collecting = new Map<string, Collecting>();
  private readonly refused: string[] = [];
  private pendingBytes = 0;
  private inbox: Promise<void> = Promise.resolve();
  private readonly helloTimer: ReturnType<typeof setTimeout>;
  private readonly log: Logger;

  constructor(
    readonly name: string,
    private readonly ws: WebSocket,
    private readonly ctx: ServerContext,
  ) {
    this.log = ctx.log.child({ client: name });
    this.helloTimer = setTimeout(
      () => this.refuse("unauthorized", "no hello received in time"),
      ctx.config.limits.helloTimeoutMs,
    );
    ws.on("message", (data, isBinary) => {
      // ws hands us Buffers by default; only fragmented or ArrayBuffer data needs converting.
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      // One message at a time, in order (a hello reply may wait on device probing), and whatever
      // arrives, one bad message must never take the server down.
      this.inbox = this.inbox
        .then(() => {
          // Messages queued behind a slow hello must not start jobs for a client that has left.
          if (ws.readyState === ws.CLOSED) return;
          return isBinary ? this.onBinary(bytes) : this.onText(bytes.toString("utf8"));
        })
        .catch((err) => this.internal(err));
    });
  }

  /** The socket closed: cancel everything this client started. */
  closed(): void {
    clearTimeout(this.helloTimer);
    for (const c of this.collecting.values()) clearTimeout(c.timer);
    for (const c of this.collecting.values()) this.ctx.queue.release(c.job);
    this.collecting.clear();
    for (const job of this.ctx.queue.of(this.name)) job.abort.abort();
    this.ctx.queue.forget(this.name);
  }

  // ---- sending ----

  send(msg: ServerMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private io(id: string): JobIO {
    return {
      send: (msg) => this.send(msg),
      sendPart: (part, bytes) => {
        if (this.ws.readyState === this.ws.OPEN) this.ws.send(encodeFrame({ id, part }, bytes));
      },
      congested: () => this.ws.bufferedAmount > CONGESTED_BYTES,
    };
  }

  private error(code: ErrorCode, message: string, id?: string, extra?: { protocol: number }): void {
    this.send({ type: "error", code, message, ...(id ? { id } : {}), ...extra });
  }

  private refuse(code: ErrorCode, reason: string, extra?: { protocol: number }): void {
    this.log.warn({ reason }, "refusing client");
    this.error(code, reason, undefined, extra);
    this.ws.close(CLOSE.policy, closeReason(reason));
  }

  private internal(err: unknown): void {
    this.log.error({ err }, "unexpected error handling a message");
    this.error("internal", "The companion hit an unexpected error handling that message.");
  }

  // ---- receiving ----

  private async onText(text: string): Promise<void> {
    const parsed = parseClientMessage(text);
    if (!parsed.ok) {
      const theirs = this.authed ? undefined : helloProtocol(text);
      if (theirs !== undefined && theirs !== PROTOCOL_VERSION) {
        const why = `The plugin and the companion are different versions of Stylize (protocol ${theirs} and ${PROTOCOL_VERSION}): update the older one.`;
        return this.refuse("unauthorized", why, { protocol: PROTOCOL_VERSION });
      }
      if (!this.authed) return this.refuse("unauthorized", `expected a hello with the pairing token (${parsed.error})`);
      return this.error("bad-message", `Ignored a message: ${parsed.error}`, idOf(text));
    }
    const msg = parsed.value;
    if (!this.authed) return this.onHello(msg);
    switch (msg.type) {
      case "hello":
        return this.send(await this.ctx.hello());
      case "ping":
        return this.send({ type: "pong", ...(msg.t !== undefined ? { t: msg.t } : {}) });
      case "cancel":
        return this.cancel(msg.id);
      case "primitives":
      case "style":
        return this.startJob(msg);
    }
  }

  private async onHello(msg: ClientMessage): Promise<void> {
    if (msg.type !== "hello") return this.refuse("unauthorized", "the first message must be a hello");
    const lan = this.ctx.config.public;
    if (lan) {
      const user = lan.userOfToken(msg.token);
      if (!user) return this.refuse("unauthorized", "This token is not (or no longer) valid here. Ask for a new one.");
      this.log.info({ user }, "user signed in");
    } else if (!tokenMatches(this.ctx.token, msg.token)) {
      return this.refuse(
        "unauthorized",
        "The pairing token is wrong. Run `npx stylize pair` and paste the token into the plugin.",
      );
    }
    clearTimeout(this.helloTimer);
    this.authed = true;
    this.log.info({ client: msg.client }, "paired");
    this.send(await this.ctx.hello());
  }

  private startJob(msg: Extract<ClientMessage, { type: "style" | "primitives" }>): void {
    if (this.ctx.shuttingDown()) {
      this.error("busy", "The companion is shutting down; start it again with `npx stylize serve`.", msg.id);
      return;
    }
    let spec: JobSpec<unknown>;
    let job: Job;
    try {
      spec = (msg.type === "style" ? styleJob(msg) : primitivesJob(msg)) as JobSpec<unknown>;
      job = this.ctx.queue.admit(this.name, msg.id, msg.type);
    } catch (err) {
      this.remember(msg.id);
      this.jobFailed(msg.id, err);
      return;
    }
    const timeoutS = Math.round(this.ctx.config.limits.partsTimeoutMs / 1000);
    const timer = setTimeout(
      () =>
        this.dropCollecting(msg.id, "bad-message", `The images for job ${msg.id} did not arrive within ${timeoutS} s.`),
      this.ctx.config.limits.partsTimeoutMs,
    );
    this.collecting.set(msg.id, { job, spec, parts: new Map(), bytes: 0, timer });
    this.log.debug({ id: msg.id, kind: msg.type, parts: spec.parts }, "job admitted");
  }

  private onBinary(bytes: Uint8Array): void {
    if (!this.authed) {
      this.refuse("unauthorized", "expected a hello with the pairing token first");
      return;
    }
    const frame = decodeFrame(bytes);
    if (!frame.ok) {
      this.error("bad-message", `Ignored a binary frame: ${frame.error}`);
      return;
    }
    const { id, part } = frame.header;
    const c = this.collecting.get(id);
    if (!c) {
      if (this.refused.includes(id)) return;
      this.error("bad-message", `Binary part "${part}" names no job waiting for images.`, id);
      return;
    }
    if (!c.spec.parts.includes(part) || c.parts.has(part)) {
      this.dropCollecting(id, "bad-message", `Job ${id} did not expect the binary part "${part}" (now).`);
      return;
    }
    const limit = this.ctx.config.limits.maxPendingBytes;
    if (this.pendingBytes + frame.payload.length > limit) {
      this.dropCollecting(id, "too-large", `The images sent exceed ${Math.round(limit / 2 ** 20)} MB in flight.`);
      return;
    }
    c.parts.set(part, frame.payload);
    c.bytes += frame.payload.length;
    this.pendingBytes += frame.payload.length;
    if (c.parts.size === c.spec.parts.length) {
      this.stopCollecting(id);
      void this.launch(c);
    }
  }

  // ---- jobs ----

  private stopCollecting(id: string): Collecting | undefined {
    const c = this.collecting.get(id);
    if (!c) return undefined;
    clearTimeout(c.timer);
    this.collecting.delete(id);
    this.pendingBytes -= c.bytes;
    return c;
  }

  private dropCollecting(id: string, code: ErrorCode, message: string): void {
    const c = this.stopCollecting(id);
    if (!c) return;
    this.ctx.queue.release(c.job);
    this.remember(id);
    this.error(code, message, id);
  }

  private async launch({ job, spec, parts }: Collecting): Promise<void> {
    const started = Date.now();
    try {
      await spec.preflight?.({ engines: this.ctx.engines, config: this.ctx.config });
      const inputs = await spec.prepare(parts, this.ctx.config.limits.maxImagePixels);
      parts.clear();
      const { position, done } = this.ctx.queue.enqueue(job, (signal) =>
        spec.run(inputs, { io: this.io(job.id), signal, engines: this.ctx.engines, config: this.ctx.config }),
      );
      this.send({ type: "accepted", id: job.id, position });
      await done;
      this.log.info({ id: job.id, kind: job.kind, ms: Date.now() - started }, "job done");
    } catch (err) {
      this.jobFailed(job.id, err);
    } finally {
      this.ctx.queue.release(job);
    }
  }

  private cancel(id: string): void {
    if (this.collecting.has(id)) {
      const c = this.stopCollecting(id)!;
      this.ctx.queue.release(c.job);
      this.remember(id);
      this.send({ type: "cancelled", id });
      return;
    }
    const job = this.ctx.queue.find(this.name, id);
    if (!job) {
      this.error("bad-message", `There is no job ${id} to cancel (it may have finished).`, id);
      return;
    }
    job.abort.abort(); // the job's own outcome handler sends `cancelled`
  }

  private jobFailed(id: string, err: unknown): void {
    if (isAbortError(err)) {
      this.log.info({ id }, "job cancelled");
      this.send({ type: "cancelled", id });
      return;
    }
    if (err instanceof UserError) {
      this.log.info({ id, code: err.code, msg: err.message }, "job refused");
      this.error(err.code, err.message, id);
      return;
    }
    this.log.error({ id, err }, "job failed unexpectedly");
    const detail = err instanceof Error ? err.message : String(err);
    this.error("internal", `The job failed unexpectedly: ${detail}`, id);
  }

  private remember(id: string): void {
    this.refused.push(id);
    if (this.refused.length > REFUSED_MEMORY) this.refused.shift();
  }
}

/** The job id of a rejected message, when it has a usable one, so the UI can tie the error to it. */
function idOf(text: string): string | undefined {
  try {
    const id = (JSON.parse(text) as { id?: unknown })?.id;
    return typeof id === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The protocol number of a hello that failed the schema, if it is one with a number there. */
function helloProtocol(text: string): number | undefined {
  try {
    const m = JSON.parse(text) as { type?: unknown; protocol?: unknown };
    return m?.type === "hello" && typeof m.protocol === "number" ? m.protocol : undefined;
  } catch {
    return undefined;
  }
}

/** Close reasons are limited to 123 bytes by the WebSocket protocol (ws throws beyond). */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= 123) return text;
  let out = text;
  while (Buffer.byteLength(out) > 120) out = out.slice(0, -1);
  return out + "…"; // 3 bytes
}
