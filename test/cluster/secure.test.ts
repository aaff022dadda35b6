// Team mode on a studio network: Redis with TLS (rediss://) and an ACL user's password, as the
// README sets it up. A job runs end to end; each wrong setting gets its cause in one line (front
// door: designers read "unavailable", the log says why; worker: exits with the cause); the password
// appears in no log line, error text or command line.
import { randomBytes } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectFrontDoor } from "../../companion/cluster/front-door";
import { freePort, HAVE_REDIS, NO_REDIS_MESSAGE, RedisServer } from "../../companion/cluster/local-redis";
import { queueTarget } from "../../companion/cluster/queue-url";
import { spawnWorker, stopWorker } from "../../companion/cluster/worker-process";
import { formatLine } from "../../companion/log";
import { Client, gradient, sleep, start, tempDir } from "../server/helpers";
import { HAVE_OPENSSL, OPENSSL, selfSigned } from "../tls-cert";

const CLI = "dist/companion/stylize.js";
const PASSWORD = `Queue:pw@${randomBytes(6).toString("hex")}`;
/** The README's ACL user: only the queue's keys and channels, nothing that reconfigures Redis. */
const ACL = [
  "--user",
  "stylize",
  "on",
  `>${PASSWORD}`,
  "~bull:stylize-*",
  "~stylize:*",
  "&stylize:*",
  "+@all",
  "-@dangerous",
  "+info",
];

for (const [have, what] of [
  [HAVE_REDIS, NO_REDIS_MESSAGE],
  [HAVE_OPENSSL, `${OPENSSL} is missing`],
] as const) {
  if (have) continue;
  if (process.env.CI === "true") throw new Error(what);
  console.warn(`${what}: secure queue tests skipped`);
}

function capture() {
  const lines: string[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(formatLine(line)) });
  return { logger, text: () => lines.join("") };
}

describe.skipIf(!HAVE_REDIS || !HAVE_OPENSSL)("team mode over rediss:// with a password", () => {
  let redis: RedisServer;
  let caFile: string;
  const pw = { STYLIZE_QUEUE_PASSWORD: PASSWORD };
  const admin = randomBytes(8).toString("hex");

  beforeAll(async () => {
    const tls = selfSigned(tempDir());
    caFile = tls.certFile;
    // The default user has another password, so a client without one hears NOAUTH.
    redis = await RedisServer.start({ tls, args: ["--requirepass", admin, ...ACL] });
  });
  afterAll(async () => {
    await redis?.stop();
  });
  const secure = () => `rediss://stylize@127.0.0.1:${redis.tlsPort}`;

  it("runs a job end to end; the password is in no log line and on no command line", async () => {
    const log = capture();
    const door = await connectFrontDoor(queueTarget(secure(), { caFile, env: pw }), log.logger);
    const server = await start({ engines: door.engines, concurrency: { style: 10, primitives: 10 } });
    // The URL carries the password here: spawnWorker hands it over in the environment instead.
    const withPw = `rediss://stylize:${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.tlsPort}`;
    const worker = spawnWorker(CLI, withPw, ["--queue-ca", caFile, "--threads", "1", "--log-level", "debug"]);
    try {
      await worker.ready;
      const c = await Client.connect(server);
      c.primitives("p", await gradient(48, 32), { count: 12, workSize: 32, seed: 2 });
      const result = await c.outcome("p", 30_000);
      expect(result).toMatchObject({ type: "result", kind: "primitives" });
      if (result.type === "result" && result.kind === "primitives") expect(result.result.shapes).toHaveLength(12);
      expect(worker.output()).toContain(`from rediss://stylize@127.0.0.1:${redis.tlsPort}`);
      expect(worker.child.spawnargs.join(" ")).not.toContain(encodeURIComponent(PASSWORD));
    } finally {
      await server.close();
      await door.close();
      await stopWorker(worker, "SIGTERM");
    }
    for (const text of [log.text(), worker.output()]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(encodeURIComponent(PASSWORD));
    }
  }, 60_000);

  /** Each wrong setting: a URL, its password source and CA, and the cause it must name. */
  const wrong = () =>
    [
      {
        name: "wrong password",
        url: secure(),
        env: { STYLIZE_QUEUE_PASSWORD: `${PASSWORD}-old` },
        ca: true,
        cause: /refused the password for user "stylize" \(WRONGPASS\): check STYLIZE_QUEUE_PASSWORD/,
      },
      {
        name: "no password",
        url: secure(),
        env: {},
        ca: true,
        cause: /requires a password for user "stylize" and none was given: set STYLIZE_QUEUE_PASSWORD/,
      },
      {
        name: "TLS to a plain port",
        url: `rediss://stylize@127.0.0.1:${redis.port}`,
        env: pw,
        ca: true,
        cause: /does not speak TLS on 127\.0\.0\.1:\d+ \(a plain port\): use redis:\/\//,
      },
      {
        name: "plain to a TLS port",
        url: `redis://stylize@127.0.0.1:${redis.tlsPort}`,
        env: pw,
        ca: false,
        cause: /speaks TLS on port \d+: use rediss:\/\//,
      },
      {
        name: "an untrusted certificate",
        url: secure(),
        env: pw,
        ca: false,
        cause: /a certificate this machine does not trust \(DEPTH_ZERO_SELF_SIGNED_CERT\): give its CA with --queue-ca/,
      },
    ] as const;

  it("front door: designers read 'The job queue is unavailable', the log names the cause, it keeps serving", async () => {
    const results = await Promise.all(
      wrong().map(async (w) => {
        const log = capture();
        const target = queueTarget(w.url, { caFile: w.ca ? caFile : undefined, env: w.env });
        const door = await connectFrontDoor(target, log.logger);
        const server = await start({ engines: door.engines, concurrency: { style: 10, primitives: 10 } });
        try {
          const c = await Client.connect(server);
          const outcomes = [];
          for (const id of ["a", "b"]) {
            c.primitives(id, await gradient(16, 16), { count: 2, workSize: 16 });
            outcomes.push(await c.outcome(id, 10_000));
          }
          for (let i = 0; i < 100 && !w.cause.test(log.text()); i++) await sleep(100);
          return { name: w.name, cause: w.cause, outcomes, log: log.text() };
        } finally {
          await server.close();
          await door.close();
        }
      }),
    );
    for (const r of results) {
      for (const o of r.outcomes) {
        expect(o, r.name).toMatchObject({ type: "error", code: "queue-unavailable" });
        if (o.type === "error") expect(o.message, r.name).toMatch(/^The job queue is unavailable/);
      }
      const causes = r.log.split("\n").filter((l) => r.cause.test(l));
      expect(causes, `${r.name}:\n${r.log}`).toHaveLength(1); // once, not at every retry
      expect(r.log).not.toContain(PASSWORD);
    }
  }, 60_000);

  it("worker: exits with the cause for a wrong setting, but waits for a Redis that is away", async () => {
    const away = spawnWorker(CLI, `redis://127.0.0.1:${await freePort()}`, [], pw);
    away.ready.catch(() => {}); // it never gets there: stopped below
    const cases = wrong().map((w) => {
      const worker = spawnWorker(CLI, w.url, w.ca ? ["--queue-ca", caFile] : [], w.env);
      return {
        ...w,
        worker,
        end: worker.ready.then(
          () => "ready",
          (err: Error) => err.message,
        ),
      };
    });
    try {
      for (const w of cases) {
        expect(await w.end, w.name).toMatch(/^worker exited \(1\)/);
        const said = w.worker
          .output()
          .split("\n")
          .filter((l) => l.startsWith("stylize worker: "));
        expect(said, `${w.name}:\n${w.worker.output()}`).toHaveLength(1);
        expect(said[0]).toMatch(w.cause);
        expect(w.worker.output()).not.toContain(PASSWORD);
      }
      // Redis restarting or a network fault mends by itself: the worker says so and keeps trying.
      for (let i = 0; i < 50 && !/waiting for the job queue/.test(away.output()); i++) await sleep(100);
      expect(away.output()).toMatch(
        /waiting for the job queue: Redis at redis:\/\/127\.0\.0\.1:\d+ is not answering \(ECONNREFUSED\)/,
      );
      expect(away.child.exitCode).toBeNull();
    } finally {
      await stopWorker(away);
      for (const w of cases) await stopWorker(w.worker);
    }
  }, 60_000);

  it("front door: once Redis accepts its password (fixed on Redis's side), jobs run again without a restart", async () => {
    const rotated = `${PASSWORD}-next`;
    const log = capture();
    const door = await connectFrontDoor(
      queueTarget(secure(), { caFile, env: { STYLIZE_QUEUE_PASSWORD: rotated } }),
      log.logger,
    );
    const server = await start({ engines: door.engines, concurrency: { style: 10, primitives: 10 } });
    const worker = spawnWorker(CLI, secure(), ["--queue-ca", caFile, "--threads", "1"], pw);
    const { Redis } = await import("ioredis");
    const redisAdmin = new Redis({ host: "127.0.0.1", port: redis.port, password: admin });
    try {
      await worker.ready;
      const c = await Client.connect(server);
      c.primitives("before", await gradient(16, 16), { count: 2, workSize: 16 });
      expect(await c.outcome("before", 10_000)).toMatchObject({ type: "error", code: "queue-unavailable" });
      await redisAdmin.acl("SETUSER", "stylize", `>${rotated}`); // both passwords work now
      for (let i = 0; i < 100 && !/job queue available/.test(log.text()); i++) await sleep(100);
      c.primitives("after", await gradient(32, 32), { count: 5, workSize: 16 });
      expect(await c.outcome("after", 20_000)).toMatchObject({ type: "result", kind: "primitives" });
    } finally {
      redisAdmin.disconnect();
      await server.close();
      await door.close();
      await stopWorker(worker);
    }
  }, 60_000);
});
