// `stylize worker` child processes (the built CLI, as a studio runs it), for tests and the bench.
import { type ChildProcess, spawn } from "node:child_process";
import { PASSWORD_ENV, passwordOf, withoutPassword } from "./queue-url";

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  ready: Promise<void>;
}

/** `cli`: the built dist/companion/stylize.js. A password in `url` travels in the environment, not argv. */
export function spawnWorker(cli: string, url: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): WorkerProcess {
  const password = passwordOf(url);
  const child = spawn(process.execPath, [cli, "worker", "--queue", withoutPassword(url), "-v", ...args], {
    env: { ...process.env, ...(password ? { [PASSWORD_ENV]: password } : {}), ...env },
  });
  let out = "";
  child.stderr!.on("data", (d) => {
    out += d;
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("Stylize worker: taking")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`worker exited (${code}): ${out}`)));
  });
  return { child, output: () => out, ready };
}

export async function stopWorker(w: WorkerProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  const exited = new Promise((r) => w.child.once("exit", r));
  w.child.kill(signal);
  await exited;
}
