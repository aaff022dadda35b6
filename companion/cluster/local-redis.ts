// A real redis-server for the cluster tests and `bench cluster`: a free loopback port, a temp dir,
// no persistence; optionally a TLS port beside the plain one and a password or ACL users.
// Without redis-server the tests skip with a message (under CI=true they fail).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REDIS_SERVER = process.env.REDIS_SERVER_PATH ?? "/usr/bin/redis-server";
export const HAVE_REDIS = existsSync(REDIS_SERVER);
export const NO_REDIS_MESSAGE = `redis-server not found at ${REDIS_SERVER} (apt-get install redis-server)`;

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface RedisServerOptions {
  /** More redis-server arguments: `--requirepass`, ACL `--user` rules… */
  args?: string[];
  /** Serve TLS on `tlsPort` too, with this certificate and key (PEM files). */
  tls?: { certFile: string; keyFile: string };
}

export class RedisServer {
  private child?: ChildProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), "stylize-redis-"));
  private constructor(
    readonly port: number,
    readonly tlsPort: number | undefined,
    private readonly opts: RedisServerOptions,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  /** The TLS port's URL (only with `tls`). */
  get tlsUrl(): string {
    return `rediss://127.0.0.1:${this.tlsPort}`;
  }

  static async start(opts: RedisServerOptions = {}): Promise<RedisServer> {
    const r = new RedisServer(await freePort(), opts.tls ? await freePort() : undefined, opts);
    await r.restart();
    return r;
  }

  /** (Re)start on the same port, with no data (as after a crash without persistence). */
  async restart(): Promise<void> {
    const { tls, args: more = [] } = this.opts;
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...more];
    if (tls) {
      args.push("--tls-port", String(this.tlsPort), "--tls-cert-file", tls.certFile, "--tls-key-file", tls.keyFile);
      args.push("--tls-auth-clients", "no"); // clients prove themselves with a password, not a certificate
    }
    const child = spawn(REDIS_SERVER, [...args, "--dir", this.dir], { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    let out = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (d) => {
        out += d;
        if (out.includes("Ready to accept connections")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }
}
