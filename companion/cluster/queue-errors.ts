// What went wrong between us and Redis, in one plain line. Some causes are the configuration's
// (password, TLS on one side only, an untrusted certificate): waiting will not fix them. Two of
// them look like a network fault from ioredis's side, so a quick probe tells them apart.
import { connect as tcpConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { PASSWORD_ENV, type QueueTarget, sniName } from "./queue-url";

export interface QueueProblem {
  cause: string;
  /** A configuration fault: retrying the same settings cannot succeed. */
  config: boolean;
}

const CERT_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
]);
const PROBE_MS = 2000;

export async function explainQueueError(err: Error, target: QueueTarget): Promise<QueueProblem> {
  const { host, port, username, tls } = target.redis;
  const at = `Redis at ${target.shown}`;
  const code = (err as NodeJS.ErrnoException).code ?? "";
  const msg = err.message;
  const who = username ? `user "${username}"` : "the default user";
  const problem = (cause: string, config: boolean) => ({ cause: target.hide(cause), config });

  // ioredis sends a user name without a password as an empty one: Redis answers WRONGPASS.
  if (/^(NOAUTH|WRONGPASS)/.test(msg) && !target.redis.password) {
    return problem(`${at} requires a password for ${who} and none was given: set ${PASSWORD_ENV}`, true);
  }
  if (msg.startsWith("WRONGPASS")) {
    return problem(`${at} refused the password for ${who} (WRONGPASS): check ${PASSWORD_ENV}`, true);
  }
  if (msg.startsWith("NOPERM")) return problem(`${at} does not let ${who} do what the queue needs: ${msg}`, true);
  if (CERT_CODES.has(code)) {
    return problem(
      `${at} sent a certificate this machine does not trust (${code}): give its CA with --queue-ca <file> or NODE_EXTRA_CA_CERTS`,
      true,
    );
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID")
    return problem(`${at} sent a certificate that is not for ${host}: ${msg}`, true);
  if (tls && (code === "ERR_SSL_WRONG_VERSION_NUMBER" || /wrong version number|packet length too long/.test(msg))) {
    return problem(plainPort(target), true);
  }
  // TLS to a plain port: Redis waits for the end of a "command" that never comes → a timeout.
  if (tls && code === "ETIMEDOUT" && (await answersPlainRedis(host, port))) return problem(plainPort(target), true);
  // Plain to a TLS port: Redis drops the connection → a reset or a close without an answer.
  if (!tls && (code === "ECONNRESET" || /Connection is closed/.test(msg)) && (await speaksTls(host, port))) {
    return problem(`${at} speaks TLS on port ${port}: use rediss://…`, true);
  }
  const reason = code ? `${code}` : msg;
  return problem(`${at} is not answering (${reason})`, false);
}

function plainPort(target: QueueTarget): string {
  const { host, port } = target.redis;
  return `Redis at ${target.shown} does not speak TLS on ${host}:${port} (a plain port): use redis://… there, or the server's TLS port`;
}

/** A plain Redis answers PING with "+PONG" or an error line ("-NOAUTH …"). */
function answersPlainRedis(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (yes: boolean) => {
      socket.destroy();
      resolve(yes);
    };
    socket.setTimeout(PROBE_MS, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (d) => done(/^[+-]/.test(d.toString("latin1"))));
  });
}

/** A handshake that completes, or fails over the certificate, shows the port speaks TLS. Nothing is sent. */
function speaksTls(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, servername: sniName(host) });
    const done = (yes: boolean) => {
      socket.destroy();
      resolve(yes);
    };
    socket.setTimeout(PROBE_MS, () => done(false));
    socket.once("secureConnect", () => done(true));
    socket.once("error", (e: NodeJS.ErrnoException) =>
      done(CERT_CODES.has(e.code ?? "") || e.code === "ERR_TLS_CERT_ALTNAME_INVALID"),
    );
  });
}
