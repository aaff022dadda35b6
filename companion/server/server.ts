// `startServer`: HTTP servers on loopback (127.0.0.1 and ::1, see ./listen.ts) that only upgrade to
// WebSocket for loopback Host names (DNS rebinding), hand each socket to a Connection, and shut
// down cleanly. With `--public` (team mode) one HTTPS server on the given address instead.
import { createServer, type IncomingMessage, type RequestListener } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { silentLogger } from "../log";
import { resolveConfig, type ServerOptions } from "./config";
import { CLOSE, Connection, closeReason } from "./connection";
import { realEngines } from "./engines";
import { helloBuilder } from "./hello";
import { isLoopbackHost } from "./host";
import { listenLoopback } from "./listen";
import { JobQueue } from "./queue";
import { loadOrCreateToken } from "./token";

export interface RunningServer {
  port: number;
  /** The address the plugin uses: ws://localhost:port by default, else ws://host:port (wss:// in LAN mode). */
  url: string;
  /** The addresses listened on (both loopback addresses by default, the same port on each). */
  addresses: string[];
  /** Set when one of the default addresses could not be used (no IPv6): say so at start-up. */
  note?: string;
  token: string;
  /** Clients connected, jobs admitted / waiting / running (for tests and the load bench). */
  stats(): { clients: number; jobs: number; waiting: number; running: number };
  /** Stop listening, cancel every job, close every socket with 1001, and wait for jobs to stop. */
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const config = resolveConfig(options);
  const log = config.logger ?? silentLogger;
  const engines = { ...realEngines, ...config.engines };
  const tokenInfo = loadOrCreateToken(config.tokenPath);
  if (tokenInfo.warning) log.warn(tokenInfo.warning);
  const queue = new JobQueue(config.limits, config.concurrency);

  const hello = helloBuilder(config, engines, log);
  let closing: Promise<void> | undefined;
  const ctx = { config, engines, queue, token: tokenInfo.token, log, hello, shuttingDown: () => closing !== undefined };

  // LAN mode accepts any Host name (TLS and per-user tokens guard it); otherwise loopback only.
  const hostAllowed = (host: string | undefined) => config.public !== undefined || isLoopbackHost(host);
  const onRequest: RequestListener = (req, res) => {
    // Plain HTTP gets nothing useful: this port only speaks WebSocket.
    res.writeHead(hostAllowed(req.headers.host) ? 426 : 403, { "content-type": "text/plain" });
    res.end("Stylize companion: connect from the Figma plugin.\n");
  };
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.limits.maxMessageBytes,
    perMessageDeflate: false, // compressed frames would be a second decompression-bomb route
  });
  const connections = new Set<Connection>();
  let clientSeq = 0;

  const alive = new WeakMap<WebSocket, boolean>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const origin = req.headers.origin ?? "(none)";
    if (!hostAllowed(req.headers.host)) {
      log.warn({ host: req.headers.host, origin }, "refused a connection with a non-loopback Host (DNS rebinding?)");
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    if (wss.clients.size >= config.limits.maxClients) {
      log.warn({ origin }, "refused a connection: too many open sockets");
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const name = `c${++clientSeq}`;
      log.info({ client: name, origin, remote: req.socket.remoteAddress }, "client connected");
      // ws closes an over-limit message with a bare 1009; give the plugin words it can show.
      const close = ws.close.bind(ws);
      ws.close = (code?: number, reason?: string | Buffer) =>
        close(
          code,
          code === CLOSE.tooBig && !reason
            ? closeReason(`message larger than the ${config.limits.maxMessageBytes} byte limit`)
            : reason,
        );
      alive.set(ws, true);
      ws.on("pong", () => alive.set(ws, true));
      const conn = new Connection(name, ws, ctx);
      connections.add(conn);
      ws.on("error", (err) => log.info({ client: name, err: err.message }, "socket error"));
      ws.on("close", (code, reason) => {
        log.info({ client: name, code, reason: reason.toString() }, "client disconnected");
        connections.delete(conn);
        conn.closed();
      });
    });
  };

  const makeServer = () =>
    (config.public
      ? createTlsServer({ cert: config.public.cert, key: config.public.key }, onRequest)
      : createServer(onRequest)
    ).on("upgrade", onUpgrade);
  const listening = await listenLoopback(config.host, config.port, makeServer);
  for (const http of listening.servers) http.on("error", (err) => log.error({ err }, "server error"));
  // A peer that vanished without closing its socket would keep its jobs running: find it.
  // (Started only once listening, so a failed start leaves nothing behind.)
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.get(ws)) {
        log.info("terminating a client that stopped answering pings");
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, config.limits.heartbeatMs);
  const { port, addresses, note } = listening;
  const urlHost =
    config.host === undefined ? "localhost" : config.host.includes(":") ? `[${config.host}]` : config.host;
  log.info({ port, addresses }, "listening");
  if (note) log.warn(note);
  void hello(); // starts device probing in the background, so it is ready when the plugin connects

  const close = () => {
    closing ??= (async () => {
      clearInterval(heartbeat);
      for (const http of listening.servers) http.close();
      for (const conn of connections) conn.closed(); // aborts every job; sockets still open for `cancelled`
      await waitFor(() => queue.stats().jobs === 0, 5000);
      for (const ws of wss.clients) ws.close(CLOSE.goingAway, "the companion is shutting down");
      await waitFor(() => wss.clients.size === 0, 1000);
      for (const ws of wss.clients) ws.terminate();
      for (const http of listening.servers) http.closeAllConnections();
      log.info("stopped");
    })();
    return closing;
  };

  return {
    port,
    url: `${config.public ? "wss" : "ws"}://${urlHost}:${port}`,
    addresses,
    note,
    token: tokenInfo.token,
    stats: () => ({ clients: connections.size, ...queue.stats() }),
    close,
  };
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
}
