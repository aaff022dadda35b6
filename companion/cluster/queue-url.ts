// `--queue redis://[user[:password]@]host[:port][/db]` or `rediss://…` (TLS) → ioredis options.
// The password may come from the URL, STYLIZE_QUEUE_PASSWORD or the file STYLIZE_QUEUE_PASSWORD_FILE
// names (a command line is visible to every user in `ps`); logs show `shown`, never the password.
import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";

export const PASSWORD_ENV = "STYLIZE_QUEUE_PASSWORD";
export const PASSWORD_FILE_ENV = "STYLIZE_QUEUE_PASSWORD_FILE";
/** Said when the password is on the command line, where `ps` shows it to every user. */
export const PASSWORD_IN_URL = `the queue's password is in --queue, where \`ps\` shows it to other users: set ${PASSWORD_ENV} instead`;

/** The ioredis options a queue URL stands for (bullmq passes them on to ioredis). */
export interface RedisConnection {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: { servername?: string; ca?: string[] };
  /** A TLS handshake that a plain port never answers must fail well before a designer gives up. */
  connectTimeout: number;
}

export interface QueueTarget {
  redis: RedisConnection;
  /** The URL without its password, for logs, messages and other processes' command lines. */
  shown: string;
  /** Replaces the password wherever it appears in `text` (belt and braces for error messages). */
  hide(text: string): string;
}

export interface QueueTargetOptions {
  /** A CA certificate (PEM) to trust for rediss:// besides the system's and NODE_EXTRA_CA_CERTS. */
  caFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Told PASSWORD_IN_URL when the URL carries the password (it shows in `ps`). */
  warn?: (message: string) => void;
}

const FORM = "redis://[user[:password]@]host[:port][/db] or rediss://… for TLS";

export function queueTarget(url: string, opts: QueueTargetOptions = {}): QueueTarget {
  const env = opts.env ?? process.env;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue must look like ${FORM} (got "${withoutPassword(url)}")`);
  }
  const shown = withoutPassword(url);
  if (u.protocol !== "redis:" && u.protocol !== "rediss:")
    throw new Error(`--queue must look like ${FORM} (got "${shown}")`);
  if (u.search || u.hash) throw new Error(`--queue takes no ?options or #fragment (got "${shown}")`);
  const dbText = u.pathname.replace(/^\//, "");
  const db = dbText === "" ? undefined : Number(dbText);
  if (db !== undefined && !(Number.isInteger(db) && db >= 0)) {
    throw new Error(`--queue: the database after the host must be a whole number like /0 (got "/${dbText}")`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1";
  const password = pickPassword(decodeURIComponent(u.password), env);
  if (u.password) opts.warn?.(PASSWORD_IN_URL);
  const tlsOn = u.protocol === "rediss:";
  if (!tlsOn && opts.caFile) throw new Error("--queue-ca is for rediss:// (TLS) queues only");
  const redis: RedisConnection = {
    host,
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(password ? { password } : {}),
    ...(db !== undefined ? { db } : {}),
    ...(tlsOn ? { tls: tlsOptions(host, opts.caFile, env) } : {}),
    connectTimeout: 5000,
  };
  return {
    redis,
    shown,
    hide: (text) =>
      password ? text.split(password).join("***").split(encodeURIComponent(password)).join("***") : text,
  };
}

/** The URL as given, minus the password (other processes get it through the environment). */
export function withoutPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^/]*@/i, "$1@").replace(/^([a-z][a-z0-9+.-]*:\/\/)@/i, "$1");
}

/** The password in the URL, if any, for handing to a child process through the environment. */
export function passwordOf(url: string): string | undefined {
  try {
    const p = new URL(url).password;
    return p ? decodeURIComponent(p) : undefined;
  } catch {
    return undefined;
  }
}

function pickPassword(inUrl: string, env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env[PASSWORD_ENV];
  const file = env[PASSWORD_FILE_ENV];
  const given = [inUrl && "the --queue URL", fromEnv && PASSWORD_ENV, file && PASSWORD_FILE_ENV].filter(Boolean);
  if (given.length > 1) throw new Error(`the queue's password is given twice (${given.join(" and ")}): keep one`);
  if (file) {
    return readNamed(PASSWORD_FILE_ENV, file).replace(/\r?\n$/, "");
  }
  return inUrl || fromEnv || undefined;
}

/** Node checks the certificate against its CAs (plus NODE_EXTRA_CA_CERTS); `caFile` adds one. */
function tlsOptions(host: string, caFile: string | undefined, env: NodeJS.ProcessEnv): RedisConnection["tls"] {
  // SNI takes names only; for an IP address Node checks the certificate's IP entries by itself.
  const servername = sniName(host);
  if (!caFile) return servername ? { servername } : {};
  // An explicit `ca` replaces Node's list, so keep its CAs and NODE_EXTRA_CA_CERTS beside the file.
  const extra = env.NODE_EXTRA_CA_CERTS ? [readPem("NODE_EXTRA_CA_CERTS", env.NODE_EXTRA_CA_CERTS)] : [];
  return { ...(servername ? { servername } : {}), ca: [...rootCertificates, ...extra, readPem("--queue-ca", caFile)] };
}

/** The name to send for SNI: none for an IP address (Node then checks the certificate's IP entries). */
export const sniName = (host: string) => (/^[\d.]+$|:/.test(host) ? undefined : host);

/** A file named by an option or variable, or an error that names both. */
function readNamed(what: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? "unreadable"}`);
  }
}

function readPem(what: string, file: string): string {
  const text = readNamed(what, file);
  if (!text.includes("-----BEGIN CERTIFICATE-----")) throw new Error(`${what} ${file} is not a PEM certificate`);
  return text;
}
