// The UI's companion client against a small fake companion (ws), in Node.
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { decodeFrame, encodeFrame } from "../../shared/frames";
import { PROTOCOL_VERSION, parseClientMessage } from "../../shared/protocol";
import {
  backoffDelay,
  CompanionClient,
  type ConnectionState,
  listenForPolicyBlocks,
  NOT_CONNECTED,
  type SocketFactory,
  type SocketLike,
} from "../../ui/companion";
import { connectionText } from "../../ui/messages";

const TOKEN = "good-token-123456";
const hello = {
  type: "hello",
  protocol: PROTOCOL_VERSION,
  version: "9.9.9",
  devices: [{ name: "cpu", available: true }],
  weights: { installed: false },
  limits: { maxMessageBytes: 1e6, maxImagePixels: 1e6, maxJobsPerClient: 2 },
};

type Fake = {
  port: number;
  received: unknown[];
  frames: Uint8Array[];
  sockets: Set<WebSocket>;
  close(): Promise<void>;
};

/**
 * Answers hello like the companion: right token → hello, wrong → unauthorized error + close 1008;
 * with `protocol`, a companion of that other protocol version refusing every hello.
 */
async function fakeCompanion(port = 0, protocol?: number): Promise<Fake> {
  const wss = new WebSocketServer({ port, host: "127.0.0.1" });
  await new Promise((r) => wss.once("listening", r));
  const received: unknown[] = [];
  const frames: Uint8Array[] = [];
  const sockets = new Set<WebSocket>();
  wss.on("connection", (ws) => {
    sockets.add(ws);
    ws.on("close", () => sockets.delete(ws));
    ws.on("message", (data, isBinary) => {
      if (isBinary) {
        frames.push(new Uint8Array(data as Buffer));
        return;
      }
      const msg = parseClientMessage(String(data));
      if (!msg.ok) throw new Error(msg.error);
      received.push(msg.value);
      if (msg.value.type === "hello") {
        if (protocol !== undefined) {
          ws.send(JSON.stringify({ type: "error", code: "unauthorized", message: "Different versions.", protocol }));
          ws.close(1008, "unauthorized");
        } else if (msg.value.token === TOKEN) ws.send(JSON.stringify(hello));
        else {
          ws.send(JSON.stringify({ type: "error", code: "unauthorized", message: "The pairing token is wrong." }));
          ws.close(1008, "unauthorized");
        }
      }
    });
  });
  return {
    port: (wss.address() as { port: number }).port,
    received,
    frames,
    sockets,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.terminate();
        wss.close(() => r());
      }),
  };
}

const factory = (url: string) => new WebSocket(url) as unknown as SocketLike;
const fast = { initialMs: 20, maxMs: 160 };
let cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function client(url: string, token: string, makeSocket: SocketFactory = factory) {
  const states: ConnectionState[] = [];
  const messages: unknown[] = [];
  const frames: { part: string; payload: Uint8Array }[] = [];
  let disconnects = 0;
  const c = new CompanionClient(
    url,
    token,
    {
      onState: (s) => states.push(s),
      onMessage: (m) => messages.push(m),
      onFrame: (h, p) => frames.push({ part: h.part, payload: p }),
      onDisconnect: () => disconnects++,
    },
    makeSocket,
    fast,
  );
  cleanup.push(() => c.stop());
  return { c, states, messages, frames, disconnects: () => disconnects };
}

const until = async (what: string, ok: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("companion client", () => {
  it("backs off exponentially, capped", () => {
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, { initialMs: 500, maxMs: 4000 }))).toEqual([
      500, 1000, 2000, 4000, 4000, 4000,
    ]);
  });

  it("pairs with hello + token and reports the companion's hello", async () => {
    const fake = await fakeCompanion();
    cleanup.push(() => fake.close());
    const t = client(`ws://127.0.0.1:${fake.port}`, TOKEN);
    t.c.start();
    await until("connected", () => t.c.connected);
    expect(fake.received[0]).toEqual({ type: "hello", protocol: 1, token: TOKEN, client: "figma-ui" });
    const last = t.states.at(-1)!;
    expect(last.state === "connected" && last.hello.version).toBe("9.9.9");
  });

  it("stops retrying when the token is refused, and pairs after a new token", async () => {
    const fake = await fakeCompanion();
    cleanup.push(() => fake.close());
    const t = client(`ws://127.0.0.1:${fake.port}`, "wrong");
    t.c.start();
    await until("unauthorized", () => t.c.state.state === "unauthorized");
    const tries = fake.received.length;
    await new Promise((r) => setTimeout(r, 200)); // several backoff periods
    expect(fake.received.length).toBe(tries);
    expect(t.c.state).toMatchObject({ state: "unauthorized", message: "The pairing token is wrong." });
    t.c.retarget(`ws://127.0.0.1:${fake.port}`, TOKEN);
    await until("connected", () => t.c.connected);
  });

  it("says which side is older when the companion speaks another protocol, and stops retrying", async () => {
    for (const companion of [PROTOCOL_VERSION + 1, PROTOCOL_VERSION - 1]) {
      const fake = await fakeCompanion(0, companion);
      cleanup.push(() => fake.close());
      const t = client(`ws://127.0.0.1:${fake.port}`, TOKEN);
      t.c.start();
      await until("outdated", () => t.c.state.state === "outdated");
      const tries = fake.received.length;
      await new Promise((r) => setTimeout(r, 200)); // several backoff periods
      expect(fake.received.length).toBe(tries);
      expect(t.c.state).toEqual({ state: "outdated", companion });
      const text = connectionText(t.c.state).text;
      if (companion > PROTOCOL_VERSION) expect(text).toMatch(/^This plugin is older than the companion/);
      else {
        expect(text).toMatch(/^The companion is older than this plugin.*press Retry now\.$/);
        // updated and restarted on the same port: Retry now pairs
        await fake.close();
        const updated = await fakeCompanion(fake.port);
        cleanup.push(() => updated.close());
        t.c.reconnectNow();
        await until("connected", () => t.c.connected);
      }
    }
  });

  it("retries with growing delays while the companion is not running, then connects", async () => {
    const probe = await fakeCompanion();
    const port = probe.port;
    await probe.close(); // a port nothing listens on
    const t = client(`ws://127.0.0.1:${port}`, TOKEN);
    t.c.start();
    await until("3 retries", () => t.states.filter((s) => s.state === "reconnecting").length >= 3);
    const delays = t.states.flatMap((s) => (s.state === "reconnecting" ? [s.delayMs] : []));
    expect(delays.slice(0, 3)).toEqual([20, 40, 80]);
    expect(t.states.find((s) => s.state === "reconnecting")).toMatchObject({ everConnected: false });
    expect(() => t.c.send({ type: "ping" })).toThrow(NOT_CONNECTED);

    const fake = await fakeCompanion(port);
    cleanup.push(() => fake.close());
    await until("connected", () => t.c.connected, 3000);
  });

  it("reports a dropped connection, reconnects, and delivers messages and frames", async () => {
    const fake = await fakeCompanion();
    const port = fake.port;
    const t = client(`ws://127.0.0.1:${port}`, TOKEN);
    t.c.start();
    await until("connected", () => t.c.connected);

    const [sock] = fake.sockets;
    sock.send(JSON.stringify({ type: "progress", id: "j1", done: 1, total: 2, value: 0.5 }));
    sock.send(encodeFrame({ id: "j1", part: "preview" }, new Uint8Array([1, 2, 3])));
    sock.send("{not json");
    await until("frame", () => t.frames.length === 1);
    expect(t.messages).toEqual([{ type: "progress", id: "j1", done: 1, total: 2, value: 0.5 }]);
    expect([...t.frames[0].payload]).toEqual([1, 2, 3]);

    t.c.sendFrame({ id: "j1", part: "image" }, new Uint8Array([9]));
    await until("frame at server", () => fake.frames.length === 1);
    const got = decodeFrame(fake.frames[0]);
    expect(got.ok && got.header).toEqual({ id: "j1", part: "image" });

    await fake.close();
    await until("disconnect", () => t.disconnects() === 1);
    expect(t.c.state).toMatchObject({ state: "reconnecting", everConnected: true });
    const again = await fakeCompanion(port);
    cleanup.push(() => again.close());
    await until("reconnected", () => t.c.connected, 3000);
  });
});

/**
 * A browser socket that Figma's CSP refused: it never opens, and once `fail()` is called it fails
 * the way Chromium does it (checked against /usr/bin/chromium): `error`, readyState CLOSED, no `close`.
 */
function blockedSocket(): SocketLike & { fail(): void } {
  const s: SocketLike & { fail(): void } = {
    binaryType: "blob",
    readyState: 0,
    onopen: null,
    onclose: null,
    onerror: null,
    onmessage: null,
    send() {},
    close() {},
    fail() {
      s.readyState = 3;
      s.onerror?.({});
    },
  };
  return s;
}

/** What Chromium fires on the document when CSP blocks a connection. */
function violation(blockedURI: string, effectiveDirective = "connect-src"): Event {
  return Object.assign(new Event("securitypolicyviolation"), { blockedURI, effectiveDirective });
}

describe("companion client under Figma's network policy", () => {
  const BLOCKED = "ws://127.0.0.1:47615";

  /** A client whose BLOCKED address gets CSP-refused sockets, and whose other addresses are real. */
  function policed() {
    const sockets: ReturnType<typeof blockedSocket>[] = [];
    const makeSocket: SocketFactory = (url) => {
      if (!url.startsWith(BLOCKED)) return factory(url);
      const s = blockedSocket();
      sockets.push(s);
      return s;
    };
    const t = client(BLOCKED, TOKEN, makeSocket);
    const page = new EventTarget();
    const off = listenForPolicyBlocks(page, (url) => t.c.policyBlocked(url));
    cleanup.push(off);
    return { ...t, sockets, page };
  }

  it("says 'blocked' (not 'not running') when the violation comes before the socket fails, and stops retrying", async () => {
    const t = policed();
    t.c.start();
    t.page.dispatchEvent(violation(`${BLOCKED}/`));
    t.sockets[0].fail(); // the socket's own failure follows; it must not turn into a retry loop
    expect(t.c.state).toEqual({ state: "blocked", url: BLOCKED });
    await new Promise((r) => setTimeout(r, 150)); // several backoff periods
    expect(t.sockets).toHaveLength(1);
    expect(t.states.some((s) => s.state === "reconnecting")).toBe(false);

    const fake = await fakeCompanion();
    cleanup.push(() => fake.close());
    t.c.retarget(`ws://127.0.0.1:${fake.port}`, TOKEN); // "Reset the address": pairs again
    await until("connected", () => t.c.connected);
  });

  it("switches to 'blocked' when the violation arrives after the socket already failed", async () => {
    const t = policed();
    t.c.start();
    t.sockets[0].fail(); // error without close: must not hang at "connecting"
    expect(t.c.state).toMatchObject({ state: "reconnecting", url: BLOCKED, everConnected: false });
    t.page.dispatchEvent(violation(BLOCKED));
    expect(t.c.state).toEqual({ state: "blocked", url: BLOCKED });
    await new Promise((r) => setTimeout(r, 150));
    expect(t.sockets).toHaveLength(1); // the pending retry was called off
  });

  it("ignores violations for other addresses and other directives", () => {
    const t = policed();
    t.c.start();
    t.page.dispatchEvent(violation("ws://localhost:9999/"));
    t.page.dispatchEvent(violation(BLOCKED, "img-src"));
    expect(t.c.state).toMatchObject({ state: "connecting" });
  });

  it("treats a SecurityError from the socket constructor as blocked", () => {
    const refuse: SocketFactory = () => {
      throw Object.assign(new Error("blocked by CSP"), { name: "SecurityError" });
    };
    const t = client(BLOCKED, TOKEN, refuse);
    t.c.start();
    expect(t.c.state).toEqual({ state: "blocked", url: BLOCKED });
  });
});
