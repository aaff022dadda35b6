// The built `stylize serve` / `stylize pair` commands as a designer runs them (npm test builds first).
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { Client, tempDir } from "./helpers";

const CLI = "dist/companion/stylize.js";
let child: ChildProcess | undefined;
afterEach(() => {
  if (child?.exitCode === null) child.kill("SIGKILL");
  child = undefined;
});

function serve(tokenFile: string, ...more: string[]): Promise<{ url: string; token: string; output: () => string }> {
  child = spawn(process.execPath, [
    CLI,
    "serve",
    "--port",
    "0",
    "--weights",
    "random",
    "--token-file",
    tokenFile,
    ...more,
  ]);
  let out = "";
  child.stderr?.on("data", (d) => {
    out += d;
  });
  return new Promise((resolve, reject) => {
    child!.stdout!.on("data", (d) => {
      out += d;
      const url = /running at (ws:\/\/\S+)/.exec(out)?.[1];
      const token = /Pairing token: (\S+)/.exec(out)?.[1];
      if (url && token) resolve({ url, token, output: () => out });
    });
    child!.once("exit", (code) => reject(new Error(`serve exited (${code}): ${out}`)));
  });
}

async function waitFor(ok: () => boolean, ms = 20_000) {
  for (const end = Date.now() + ms; !ok(); ) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("stylize serve / pair", () => {
  it("prints the token, serves paired clients, and shuts down cleanly on SIGTERM", async () => {
    const tokenFile = join(tempDir(), "token");
    const { url, token, output } = await serve(tokenFile);
    // The plugin's address is localhost (Figma refuses IP literals); both loopback addresses answer it.
    expect(url).toMatch(/^ws:\/\/localhost:\d+$/);
    expect(output()).toMatch(/\(listening on 127\.0\.0\.1 and \[::1\]\)|Note: the address ::1 is not available/);
    expect(execFileSync(process.execPath, [CLI, "pair", "--token-file", tokenFile], { encoding: "utf8" })).toContain(
      token,
    );
    const c = new Client(new WebSocket(url), token);
    await c.opened;
    expect(await c.hello()).toMatchObject({ type: "hello", weights: { installed: true } });
    const exited = new Promise<number | null>((r) => child!.once("exit", r));
    child!.kill("SIGTERM");
    expect(await c.closed).toEqual({ code: 1001, reason: "the companion is shutting down" });
    expect(await exited).toBe(0);
  });

  it("reads the style weights at start, so the first job does not wait for them; a bad file is logged, not fatal", async () => {
    const dir = tempDir();
    const ready = await serve(join(dir, "token"), "-v");
    await waitFor(() => /style weights read/.test(ready.output()));
    child!.kill("SIGKILL");
    const damaged = join(dir, "vgg19.h5");
    writeFileSync(damaged, "not an HDF5 file");
    const { url, token, output } = await serve(join(dir, "token"), "--weights", damaged);
    await waitFor(() => /reading the style weights failed/.test(output()));
    expect(output()).toContain("is not usable VGG-19 weights");
    const c = new Client(new WebSocket(url), token);
    await c.opened;
    expect(await c.hello()).toMatchObject({ type: "hello" });
  });

  it("pair --reset makes a new token", () => {
    const tokenFile = join(tempDir(), "token");
    const run = (...args: string[]) =>
      /Pairing token: (\S+)/.exec(
        execFileSync(process.execPath, [CLI, "pair", "--token-file", tokenFile, ...args], { encoding: "utf8" }),
      )?.[1];
    const first = run();
    expect(first).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(run()).toBe(first);
    expect(run("--reset")).not.toBe(first);
  });

  it("explains a port already in use", async () => {
    const tokenFile = join(tempDir(), "token");
    const { url } = await serve(tokenFile);
    const port = new URL(url).port;
    const second = spawn(process.execPath, [CLI, "serve", "--port", port, "--token-file", tokenFile]);
    let err = "";
    second.stderr.on("data", (d) => {
      err += d;
    });
    const killer = setTimeout(() => second.kill("SIGKILL"), 15_000); // a failed start must exit by itself
    const code = await new Promise((r) => second.once("exit", r));
    clearTimeout(killer);
    expect(code).toBe(1);
    expect(err).toMatch(new RegExp(`Port ${port} is already in use`));
  });

  it("refuses a port out of range, an unknown log level and a token file that is not one, in one line", () => {
    const dir = tempDir();
    const notes = join(dir, "notes.txt");
    writeFileSync(notes, "my notes\n");
    const cases = [
      [["serve", "--port", "99999", "--token-file", join(dir, "t")], /--port must be a whole number from 0 to 65535/],
      [
        ["serve", "--log-level", "loud", "--token-file", join(dir, "t")],
        /argument 'loud' is invalid\. Allowed choices are silent, fatal/,
      ],
      [
        ["pair", "--token-file", notes],
        /^stylize pair: .*notes\.txt holds something other than a pairing token; it was left alone/,
      ],
    ] as const;
    for (const [args, message] of cases) {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 15_000 });
      expect(r.status, args.join(" ")).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(readFileSync(notes, "utf8")).toBe("my notes\n");
  });
});
