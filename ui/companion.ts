// The UI's connection to the local companion: pairing hello, schema-checked messages, binary
// frames, and automatic reconnect with exponential backoff. Framework-free so it runs in tests
// with `ws` standing in for the browser's WebSocket.
import { decodeFrame, encodeFrame, type FrameHeader } from "../shared/frames";
import {
  type ClientMessage,
  PROTOCOL_VERSION,
  parseServerMessage,
  type ServerMessage,
  type ServerMessageOf,
} from "../shared/protocol";

export type Hello = ServerMessageOf<"hello">;
export type ConnectionState =
  | { state: "connecting"; attempt: number }
  | { state: "connected"; hello: Hello }
  /** Not reachable (or dropped): retrying after `delayMs`. `everConnected` tells "stopped" from "not started". */
  | { state: "reconnecting"; url: string; attempt: number; delayMs: number; everConnected: boolean }
  /** The plugin's network policy (CSP connect-src, from manifest.json) refused `url`: retrying can't help. */
  | { state: "blocked"; url: string }
  /** The companion refused the pairing token: waiting for a new one, no retry loop. */
  | { state: "unauthorized"; message: string }
  /** The companion speaks another protocol version (`companion`): one of the two needs updating; no retry. */
  | { state: "outdated"; companion: number };

export type Backoff = { initialMs: number; maxMs: number };
export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 10_000 };

/** Delay before retry number `attempt` (1-based): doubles each time, capped. */
export const backoffDelay = (attempt: number, b: Backoff = DEFAULT_BACKOFF) =>
  Math.min(b.maxMs, b.initialMs * 2 ** Math.max(0, attempt - 1));

/** The subset of the browser WebSocket this client uses (also satisfied by `ws`). */
export interface SocketLike {
  binaryType: string;
  readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}
export type SocketFactory = (url: string) => SocketLike;

export type CompanionEvents = {
  onState(state: ConnectionState): void;
  onMessage(msg: ServerMessage): void;
  onFrame(header: FrameHeader, payload: Uint8Array): void;
  /** The connection closed (after having been usable): running jobs are lost. */
  onDisconnect?(): void;
};

const OPEN = 1;
export const NOT_CONNECTED = "Not connected to the companion — start it with `npm start`, then retry.";

export class CompanionClient {
  private ws: SocketLike | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private everConnected = false;
  private paired = false;
  private stopped = false;
  private refusal: string | null = null;
  /** A refused hello named the companion's protocol version, not ours. */
  private otherProtocol: number | null = null;
  state: ConnectionState = { state: "connecting", attempt: 0 };

  constructor(
    private url: string,
    private token: string,
    private readonly events: CompanionEvents,
    private readonly factory: SocketFactory = (u) => new WebSocket(u) as unknown as SocketLike,
    private readonly backoff: Backoff = DEFAULT_BACKOFF,
  ) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  /** New address or token: drop the socket and pair again right away. */
  retarget(url: string, token: string): void {
    this.url = url;
    this.token = token;
    this.attempt = 0;
    this.reconnectNow();
  }

  /** Skip the backoff wait (the "Retry now" button). */
  reconnectNow(): void {
    this.clearTimer();
    this.dropSocket();
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
    this.dropSocket();
  }

  get connected(): boolean {
    return this.state.state === "connected";
  }

  send(msg: ClientMessage): void {
    if (!this.ws || this.ws.readyState !== OPEN || !this.paired) throw new Error(NOT_CONNECTED);
    this.ws.send(JSON.stringify(msg));
  }

  get maxMessageBytes(): number | undefined {
    return this.state.state === "connected" ? this.state.hello.limits.maxMessageBytes : undefined;
  }

  sendFrame(header: FrameHeader, payload: Uint8Array): void {
    if (!this.ws || this.ws.readyState !== OPEN || !this.paired) throw new Error(NOT_CONNECTED);
    this.ws.send(encodeFrame(header, payload));
  }

  private setState(s: ConnectionState): void {
    this.state = s;
    this.events.onState(s);
  }

  private open(): void {
    if (this.stopped) return;
    this.paired = false;
    this.refusal = null;
    this.otherProtocol = null;
    this.setState({ state: "connecting", attempt: this.attempt });
    let ws: SocketLike;
    try {
      ws = this.factory(this.url);
    } catch (err) {
      // Some browsers refuse a CSP-blocked address right in the constructor.
      if ((err as Error)?.name === "SecurityError") this.setState({ state: "blocked", url: this.url });
      else this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "hello", protocol: PROTOCOL_VERSION, token: this.token, client: "figma-ui" }));
    };
    ws.onmessage = (ev) => this.receive(ev.data);
    // Chromium ends a CSP-blocked socket with `error` and no `close`: either one ends this socket.
    ws.onerror = ws.onclose = () => {
      if (this.ws !== ws) return; // an old socket we replaced, or already ended
      this.ws = null;
      const wasPaired = this.paired;
      this.paired = false;
      if (wasPaired) this.events.onDisconnect?.();
      if (this.otherProtocol !== null) this.setState({ state: "outdated", companion: this.otherProtocol });
      else if (this.refusal !== null) this.setState({ state: "unauthorized", message: this.refusal });
      else this.scheduleRetry();
    };
  }

  /**
   * The page reported a CSP violation for `blockedUri` (see `listenForPolicyBlocks`). If it is the
   * companion's address, the socket will never open: stop retrying and say why.
   */
  policyBlocked(blockedUri: string): void {
    if (this.stopped || !sameOrigin(blockedUri, this.url)) return;
    this.clearTimer();
    this.dropSocket();
    this.setState({ state: "blocked", url: this.url });
  }

  private receive(data: unknown): void {
    if (typeof data === "string") {
      const parsed = parseServerMessage(data);
      if (!parsed.ok) return; // a newer companion may say more than we know; ignore, don't crash
      const msg = parsed.value;
      if (!this.paired) {
        if (msg.type === "hello") {
          this.paired = true;
          this.everConnected = true;
          this.attempt = 0;
          this.setState({ state: "connected", hello: msg });
        } else if (msg.type === "error" && msg.code === "unauthorized") {
          this.refusal = msg.message;
          if (msg.protocol !== undefined && msg.protocol !== PROTOCOL_VERSION) this.otherProtocol = msg.protocol;
        }
        return;
      }
      if (msg.type === "hello") this.setState({ state: "connected", hello: msg });
      this.events.onMessage(msg);
      return;
    }
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data instanceof Uint8Array ? data : null;
    if (!bytes || !this.paired) return;
    const frame = decodeFrame(bytes);
    if (frame.ok) this.events.onFrame(frame.header, frame.payload);
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    this.attempt += 1;
    const delayMs = backoffDelay(this.attempt, this.backoff);
    this.setState({
      state: "reconnecting",
      url: this.url,
      attempt: this.attempt,
      delayMs,
      everConnected: this.everConnected,
    });
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, delayMs);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private dropSocket(): void {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    if (this.paired) this.events.onDisconnect?.();
    this.paired = false;
    ws.onclose = ws.onmessage = ws.onopen = null;
    ws.onerror = () => {}; // `ws` (tests) throws on an unheard error while closing a connecting socket
    try {
      ws.close();
    } catch {
      // already closed
    }
  }
}

/** Scheme, host and port equal ("ws://localhost:1/" and "ws://localhost:1" are the same address). */
function sameOrigin(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.protocol === y.protocol && x.host === y.host;
  } catch {
    return false;
  }
}

/** The fields of a browser `SecurityPolicyViolationEvent` this UI reads. */
type PolicyViolation = { blockedURI?: string; effectiveDirective?: string; violatedDirective?: string };

/**
 * Calls `onBlocked(url)` for each address the page's CSP refused to connect to. In Chromium (Figma's
 * desktop app) a blocked WebSocket fires `securitypolicyviolation` on the document, then fails like
 * an absent server; this event is the only way to tell the two apart. Returns the unsubscribe.
 */
export function listenForPolicyBlocks(
  target: Pick<EventTarget, "addEventListener" | "removeEventListener">,
  onBlocked: (url: string) => void,
): () => void {
  const handler = (ev: Event) => {
    const v = ev as Event & PolicyViolation;
    const directive = v.effectiveDirective || v.violatedDirective || "";
    if (directive.startsWith("connect-src") && v.blockedURI) onBlocked(v.blockedURI);
  };
  target.addEventListener("securitypolicyviolation", handler);
  return () => target.removeEventListener("securitypolicyviolation", handler);
}
