// Runs the real companion (the built CLI, as a designer would with `npm start`) as a child process.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, connect } from "node:net";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const sock = connect(port, "127.0.0.1");
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });

export type Companion = { token: string; url: string; proc: ChildProcess; log: () => string; kill(): Promise<void> };

/**
 * `stylize serve` on `port`, with random VGG-19 weights unless `noWeightsIn` names an (empty) cache
 * folder to look for installed weights in. The pairing token comes from `tokenFile`.
 */
export async function startCompanion(port: number, tokenFile: string, noWeightsIn?: string): Promise<Companion> {
  const weights = noWeightsIn ? [] : ["--weights", "random"];
  const proc = spawn(
    process.execPath,
    ["dist/companion/stylize.js", "serve", "--port", String(port), ...weights, "--token-file", tokenFile],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: noWeightsIn ? { ...process.env, STYLIZE_CACHE_DIR: noWeightsIn } : process.env,
    },
  );
  let log = "";
  proc.stdout?.on("data", (d) => (log += d));
  proc.stderr?.on("data", (d) => (log += d));
  const deadline = Date.now() + 30_000;
  while (!(await canConnect(port))) {
    if (proc.exitCode !== null) throw new Error(`companion exited (${proc.exitCode}):\n${log}`);
    if (Date.now() > deadline) throw new Error(`companion did not start listening:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!existsSync(tokenFile)) throw new Error("companion wrote no token file");
  const token = readFileSync(tokenFile, "utf8").trim();
  const kill = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGKILL"); // the way a crash or a closed terminal stops it: no goodbye to clients
    await exited;
  };
  // the address the plugin uses: a host name, as Figma's manifest validator requires
  return { token, url: `ws://localhost:${port}`, proc, log: () => log, kill };
}
