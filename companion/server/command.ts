// `stylize serve`: run the companion for the plugin. `stylize pair`: print (or reset) the token.
import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { DEFAULT_PORT } from "../../shared/protocol";
import type { FrontDoor } from "../cluster/front-door";
import { UserError } from "../errors";
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from "../log";
import type { ServerOptions } from "./config";
import { FETCH_HINT } from "../style/weights";
import { warmStyle } from "../style/warm";
import { DEFAULT_LIMITS } from "./config";
import { realEngines } from "./engines";
import { startServer } from "./server";
import { defaultTokenPath, loadOrCreateToken, resetToken } from "./token";
import { defaultUsersPath, listUsers, userOfToken } from "./users";
import { registerUsers } from "./users-command";

const PAIR_HINT =
  'In Figma, run the Stylize plugin, paste the token into "Pairing token" and press Pair (once per machine).';

interface ServeFlags {
  port: string;
  host?: string;
  weights?: string;
  tokenFile?: string;
  maxJobsPerClient: string;
  maxQueue: string;
  maxMessageMb: string;
  maxImageMp?: string;
  primitivesJobs?: string;
  workers?: string;
  verbose?: boolean;
  logLevel?: LogLevel;
  queue?: string;
  queueCa?: string;
  public?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  usersFile: string;
}

function num(name: string, text: string, min: number, integer = true, max = Number.POSITIVE_INFINITY): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    const range = max === Number.POSITIVE_INFINITY ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new Error(`--${name} must be ${integer ? "a whole number" : "a number"} ${range} (got "${text}")`);
  }
  return n;
}

const bracket = (address: string) => (address.includes(":") ? `[${address}]` : address);

/** Registers `serve` and `pair` (cli.ts only knows this one entry point). */
export function registerServe(program: Command): void {
  registerPair(program);
  registerUsers(program);
  program
    .command("serve")
    .description("run the companion the Figma plugin connects to (loopback WebSocket)")
    .option("-p, --port <port>", "port to listen on (0 = any free port)", String(DEFAULT_PORT))
    .option("--host <host>", "listen only on this address; keep it loopback (default: both 127.0.0.1 and ::1)")
    .option("--weights <spec>", 'VGG-19 weights (.h5 path), or "random" for a demo without weights')
    .option("--token-file <path>", "where the pairing token is kept", defaultTokenPath())
    .option(
      "--max-jobs-per-client <n>",
      "jobs one plugin window may have at once",
      String(DEFAULT_LIMITS.maxJobsPerClient),
    )
    .option("--max-queue <n>", "jobs waiting server-wide before new ones get `busy`", String(DEFAULT_LIMITS.maxQueue))
    .option(
      "--max-message-mb <n>",
      "largest message (image) accepted, in MB",
      String(DEFAULT_LIMITS.maxMessageBytes / 2 ** 20),
    )
    .option("--max-image-mp <n>", "largest image accepted, in megapixels (default: 67, i.e. 8192 x 8192)")
    .option("--primitives-jobs <n>", "primitives jobs running at once (default: 1, or 2 on 8+ cores)")
    .option("--workers <n>", "worker threads per primitives job (default: the engine's choice)")
    .option("-v, --verbose", "log what the server does (info level)")
    .addOption(new Option("--log-level <level>", "what the log shows (default warn)").choices([...LOG_LEVELS]))
    .option(
      "--queue <url>",
      "scale-out: send jobs to `stylize worker`s through Redis at redis://[user@]HOST[:PORT][/DB] or rediss://… (TLS)",
    )
    .option("--queue-ca <file>", "for rediss://: also trust this CA certificate (PEM)")
    .option("--public", "reachable from other machines (with --host 0.0.0.0): needs TLS and `stylize users`")
    .option("--tls-cert <file>", "TLS certificate (PEM) for --public")
    .option("--tls-key <file>", "TLS private key (PEM) for --public")
    .option("--users-file <path>", "where --public keeps user tokens (hashed)", defaultUsersPath())
    .action(async (flags: ServeFlags) => {
      const logger = createLogger(flags.logLevel ?? (flags.verbose ? "info" : "warn"));
      let server: Awaited<ReturnType<typeof startServer>>;
      let queue: QueueMode | undefined;
      try {
        const lan = publicMode(flags);
        queue = flags.queue ? await queueMode(flags.queue, flags.queueCa, logger) : undefined;
        server = await startServer({
          ...queue?.options,
          public: lan,
          port: num("port", flags.port, 0, true, 65535),
          host: flags.host,
          weights: flags.weights,
          tokenPath: flags.tokenFile,
          logger,
          limits: {
            maxJobsPerClient: num("max-jobs-per-client", flags.maxJobsPerClient, 1),
            maxQueue: num("max-queue", flags.maxQueue, 0),
            maxMessageBytes: Math.round(num("max-message-mb", flags.maxMessageMb, 0.001, false) * 2 ** 20),
            maxImagePixels: flags.maxImageMp
              ? Math.round(num("max-image-mp", flags.maxImageMp, 0.000001, false) * 1e6)
              : DEFAULT_LIMITS.maxImagePixels,
          },
          concurrency:
            queue?.options.concurrency ??
            (flags.primitivesJobs ? { primitives: num("primitives-jobs", flags.primitivesJobs, 1) } : {}),
          primitivesWorkers: flags.workers ? num("workers", flags.workers, 1) : undefined,
        });
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { address?: string };
        const on = e.address ? ` on ${e.address}` : "";
        const msg =
          e.code === "EADDRINUSE"
            ? `Port ${flags.port} is already in use${on}. Is another \`stylize serve\` running? Stop it, or pick another port with --port.`
            : e.message;
        console.error(`stylize serve: ${msg}`);
        await queue?.frontDoor.close().catch(() => {});
        process.exitCode = 1;
        return;
      }
      const weights = await realEngines.weights(flags.weights);
      if (queue)
        console.log(
          `Jobs go to the queue at ${queue.shown}: start workers with \`stylize worker --queue ${queue.shown}\`.`,
        );
      console.log(
        [
          `Stylize companion is running at ${server.url} (listening on ${server.addresses.map(bracket).join(" and ")})`,
          ...(server.note ? [`Note: ${server.note}.`] : []),
          "",
          ...(flags.public
            ? ["  Users sign in with their own token (`stylize users add <name>` prints it)."]
            : [`  Pairing token: ${server.token}`, "", PAIR_HINT]),
          queue
            ? "Style jobs go to workers that have the VGG-19 weights."
            : weights.installed
              ? `Style weights: ${weights.spec}`
              : `Style weights are not installed (primitives work without them). ${FETCH_HINT}`,
          "Keep this window open while you use the plugin. Press Ctrl+C to stop.",
        ].join("\n"),
      );
      // The first style job should not wait for shader compilation nor for reading the weights.
      if (!queue) warmStyle(weights, logger);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) process.exit(1); // a second Ctrl+C: stop now
        stopping = true;
        logger.info({ signal }, "shutting down");
        void server
          .close()
          .then(() => queue?.frontDoor.close())
          .then(() => process.exit(0));
      };
      // A long-running service: a stray rejection is logged, not fatal (jobs already fail on their own).
      process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection"));
      process.on("SIGINT", () => stop("SIGINT"));
      process.on("SIGTERM", () => stop("SIGTERM"));
    });
}

function registerPair(program: Command): void {
  program
    .command("pair")
    .description("print the pairing token to paste into the plugin (created on first use)")
    .option("--token-file <path>", "where the pairing token is kept", defaultTokenPath())
    .option("--reset", "make a new token; plugins paired with the old one must paste the new one")
    .action((flags: { tokenFile: string; reset?: boolean }) => {
      let token: string;
      try {
        token = flags.reset ? resetToken(flags.tokenFile) : loadOrCreateToken(flags.tokenFile).token;
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        console.error(`stylize pair: ${err.message}`);
        process.exitCode = 1;
        return;
      }
      console.log(`Pairing token: ${token}`);
      console.log(PAIR_HINT);
      if (flags.reset) console.log("A running `stylize serve` picks the new token up when restarted.");
    });
}

interface QueueMode {
  frontDoor: FrontDoor;
  /** The queue's URL without its password. */
  shown: string;
  options: Pick<ServerOptions, "engines" | "concurrency">;
}

/** Scale-out mode: the queue, not this process, decides how many jobs run (imported only here). */
async function queueMode(url: string, caFile: string | undefined, logger: Logger): Promise<QueueMode> {
  const { queueTarget } = await import("../cluster/queue-url");
  const target = queueTarget(url, { caFile, warn: (m) => logger.warn(m) });
  const { connectFrontDoor } = await import("../cluster/front-door");
  const frontDoor = await connectFrontDoor(target, logger);
  return {
    frontDoor,
    shown: target.shown,
    options: { engines: frontDoor.engines, concurrency: { style: 1000, primitives: 1000 } },
  };
}

/** Plain ws stays on loopback; anything reachable from the LAN needs TLS and user tokens. */
function publicMode(flags: ServeFlags): ServerOptions["public"] {
  const loopback = flags.host === undefined || ["127.0.0.1", "localhost", "::1"].includes(flags.host);
  if (!flags.public) {
    if (!loopback)
      throw new Error(`--host ${flags.host} is not a loopback address: add --public (TLS and user tokens).`);
    return undefined;
  }
  if (!flags.tlsCert || !flags.tlsKey) {
    throw new Error("--public needs --tls-cert and --tls-key (PEM files): plain ws stays on this computer only.");
  }
  if (listUsers(flags.usersFile).length === 0) {
    throw new Error("--public needs at least one user: run `stylize users add <name>` and give them the token.");
  }
  const read = (what: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`cannot read the TLS ${what} ${path}: ${(err as Error).message}`);
    }
  };
  const usersFile = flags.usersFile;
  return {
    cert: read("certificate", flags.tlsCert),
    key: read("key", flags.tlsKey),
    userOfToken: (token) => userOfToken(token, usersFile),
  };
}
