// LAN mode (`serve --public`): wss with a real (self-signed) certificate and per-user tokens that
// are stored hashed; plain ws stays on loopback.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { RunningServer } from "../../companion/server/server";
import { addUser, revokeUser, userOfToken } from "../../companion/server/users";
import { OPENSSL, selfSigned } from "../tls-cert";
import { Client, start, tempDir } from "./helpers";

const CLI = "dist/companion/stylize.js";

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

if (!existsSync(OPENSSL) && process.env.CI === "true") throw new Error(`${OPENSSL} is missing: LAN-mode tests need it`);

describe.skipIf(!existsSync(OPENSSL))("serve --public: TLS and per-user tokens", () => {
  it("serves a user's token over wss, refuses wrong and revoked tokens, and stores only hashes", async () => {
    const dir = tempDir();
    const usersFile = join(dir, "users.json");
    const tls = selfSigned(dir);
    const ana = addUser("ana", usersFile);
    const ben = addUser("ben", usersFile);
    const stored = readFileSync(usersFile, "utf8");
    expect(stored).not.toContain(ana);
    expect(stored).not.toContain(ben);
    expect(userOfToken(ben, usersFile)).toBe("ben");

    server = await start({
      host: "127.0.0.1", // a LAN address in real use (--host 0.0.0.0); loopback keeps the test local
      public: { cert: tls.cert, key: tls.key, userOfToken: (t) => userOfToken(t, usersFile) },
    });
    expect(server.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    // Another machine names the front door by its LAN name: accepted, the token decides.
    const connect = (token: string) =>
      new Client(new WebSocket(server!.url, { ca: tls.cert, headers: { host: `studio.lan:${server!.port}` } }), token);

    const wrong = connect("not-a-user-token-at-all");
    await wrong.opened;
    expect(await wrong.hello()).toMatchObject({ type: "error", code: "unauthorized" });
    expect((await wrong.closed).code).toBe(1008);

    const pairing = connect(server.token); // the local pairing token is no user token
    await pairing.opened;
    expect(await pairing.hello()).toMatchObject({ type: "error", code: "unauthorized" });

    const ok = connect(ana);
    await ok.opened;
    expect(await ok.hello()).toMatchObject({ type: "hello" });
    ok.ws.close();

    expect(revokeUser("ana", usersFile)).toBe(true);
    const revoked = connect(ana);
    await revoked.opened;
    expect(await revoked.hello()).toMatchObject({ type: "error", code: "unauthorized" });
    const still = connect(ben);
    await still.opened;
    expect(await still.hello()).toMatchObject({ type: "hello" });
    still.ws.close();
  });

  it("the CLI keeps plain ws on loopback and asks for TLS and users before going public", () => {
    const dir = tempDir();
    const tls = selfSigned(dir);
    const usersFile = join(dir, "users.json");
    const serve = (...args: string[]) =>
      spawnSync(process.execPath, [CLI, "serve", "--port", "0", "--token-file", join(dir, "token"), ...args], {
        encoding: "utf8",
        timeout: 20_000,
      });
    const plain = serve("--host", "0.0.0.0");
    expect(plain.status).toBe(1);
    expect(plain.stderr).toMatch(/not a loopback address: add --public/);
    const noTls = serve("--host", "0.0.0.0", "--public");
    expect(noTls.status).toBe(1);
    expect(noTls.stderr).toMatch(/--public needs --tls-cert and --tls-key/);
    const noUsers = serve("--public", "--tls-cert", tls.certFile, "--tls-key", tls.keyFile, "--users-file", usersFile);
    expect(noUsers.status).toBe(1);
    expect(noUsers.stderr).toMatch(/needs at least one user/);

    const added = execFileSync(process.execPath, [CLI, "users", "add", "cleo", "--users-file", usersFile], {
      encoding: "utf8",
    });
    const token = /Token for cleo: (\S+)/.exec(added)?.[1];
    expect(token).toBeDefined();
    expect(userOfToken(token!, usersFile)).toBe("cleo");
    const list = execFileSync(process.execPath, [CLI, "users", "list", "--users-file", usersFile], {
      encoding: "utf8",
    });
    expect(list).toMatch(/^cleo\tadded /m);
    expect(list).not.toContain(token!);
    const dup = spawnSync(process.execPath, [CLI, "users", "add", "cleo", "--users-file", usersFile], {
      encoding: "utf8",
    });
    expect(dup.status).toBe(1);
    execFileSync(process.execPath, [CLI, "users", "revoke", "cleo", "--users-file", usersFile]);
    expect(userOfToken(token!, usersFile)).toBeUndefined();
  }, 60_000);
});
