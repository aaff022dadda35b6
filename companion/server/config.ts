// Everything `startServer` can be told, with the defaults `stylize serve` uses.
import { availableParallelism } from "node:os";
import { DEFAULT_PORT } from "../../shared/protocol";
import { DEFAULT_MAX_INPUT_PIXELS } from "../image";
import type { Logger } from "../log";
import type { Engines } from "./engines";

export interface Limits {
  /** Largest single WebSocket message (text or binary); bigger ones close the socket with 1009. */
  maxMessageBytes: number;
  /** Largest image, in pixels, checked from the image header before decoding. */
  maxImagePixels: number;
  /** Jobs one client may have at once (collecting, waiting or running). */
  maxJobsPerClient: number;
  /** Jobs waiting server-wide (not counting running ones). */
  maxQueue: number;
  /** Bytes of images one client may have in flight before its jobs are complete. */
  maxPendingBytes: number;
  /** How long the binary parts of a job may take to arrive. */
  partsTimeoutMs: number;
  /** Open sockets at once; more are refused with HTTP 503 before upgrading (memory bound). */
  maxClients: number;
  /** How long a new socket has to send a valid `hello`. */
  helloTimeoutMs: number;
  /** Ping every client this often; one that missed the previous pong is gone (sleep, crash). */
  heartbeatMs: number;
}

export interface ServerConfig {
  port: number;
  /** One address to listen on; undefined = both loopback addresses (127.0.0.1 and ::1). */
  host?: string;
  /** Where the pairing token lives (created 0600 on first run). */
  tokenPath?: string;
  /** VGG-19 weights: a .h5 path, or "random" / "random:<seed>"; undefined = the installed weights. */
  weights?: string;
  limits: Limits;
  /** Jobs running at once, per kind. */
  concurrency: { style: number; primitives: number };
  /** Worker threads per primitives job (undefined: the engine decides). */
  primitivesWorkers?: number;
  logger?: Logger;
  /**
   * LAN mode (`serve --public`): TLS (wss) and per-user tokens instead of the pairing token, and any
   * Host name (the loopback-only Host check guards a local companion against DNS rebinding).
   */
  public?: { cert: string | Buffer; key: string | Buffer; userOfToken(token: string): string | undefined };
  /** Replace engine entry points (tests). */
  engines?: Partial<Engines>;
}

export const DEFAULT_LIMITS: Limits = {
  maxMessageBytes: 48 * 1024 * 1024,
  maxImagePixels: DEFAULT_MAX_INPUT_PIXELS,
  maxJobsPerClient: 4,
  maxQueue: 32,
  maxPendingBytes: 128 * 1024 * 1024,
  partsTimeoutMs: 30_000,
  maxClients: 64,
  helloTimeoutMs: 10_000,
  heartbeatMs: 20_000,
};

export type ServerOptions = Partial<Omit<ServerConfig, "limits" | "concurrency">> & {
  limits?: Partial<Limits>;
  concurrency?: Partial<ServerConfig["concurrency"]>;
};

export function resolveConfig(opts: ServerOptions): ServerConfig {
  // Primitives jobs each get a worker pool; on small machines one at a time keeps them responsive.
  const primitivesJobs = availableParallelism() >= 8 ? 2 : 1;
  return {
    ...opts,
    port: opts.port ?? DEFAULT_PORT,
    limits: { ...DEFAULT_LIMITS, ...opts.limits },
    concurrency: { style: 1, primitives: primitivesJobs, ...opts.concurrency },
  };
}
