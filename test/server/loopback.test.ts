// `localhost` may resolve to ::1 or to 127.0.0.1 first: by default the companion listens on both,
// as one server (one token, one Host check, one set of limits).
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { listenLoopback } from "../../companion/server/listen";
import type { RunningServer } from "../../companion/server/server";
import { Client, fakeEngines, start, upgradeStatus } from "./helpers";

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Whether this machine has an IPv6 loopback (containers may not). */
const ipv6 = await new Promise<boolean>((resolve) => {
  const probe = createServer().once("error", () => resolve(false));
  probe.listen(0, "::1", () => probe.close(() => resolve(true)));
});

async function pairAt(url: string, token: string): Promise<Client> {
  const c = new Client(new WebSocket(url), token);
  await c.opened;
  expect(await c.hello()).toMatchObject({ type: "hello" });
  return c;
}

const refused = (url: string) =>
  new Promise<string>((resolve) => {
    const ws = new WebSocket(url);
    ws.on("open", () => resolve("open"));
    ws.on("error", (err) => resolve((err as NodeJS.ErrnoException).code ?? err.message));
  });

describe.runIf(ipv6)("listening on both loopback addresses", () => {
  it("pairs clients on 127.0.0.1 and on [::1] with the same token, as one server", async () => {
    server = await start({ engines: fakeEngines().engines, limits: { maxClients: 2 } });
    expect(server.addresses).toEqual(["127.0.0.1", "::1"]);
    expect(server.url).toBe(`ws://localhost:${server.port}`);
    const v4 = await pairAt(`ws://127.0.0.1:${server.port}`, server.token);
    const v6 = await pairAt(`ws://[::1]:${server.port}`, server.token);
    expect(server.stats().clients).toBe(2);
    // One socket limit for both addresses: a third client is refused on either.
    expect(await upgradeStatus(server.port, `localhost:${server.port}`, "::1")).toBe(503);
    v4.ws.close();
    await v4.closed;
    expect(v6.invalid).toEqual([]);
  });

  it("refuses a wrong token and non-loopback Host names on ::1 too", async () => {
    server = await start({ engines: fakeEngines().engines });
    const c = new Client(new WebSocket(`ws://[::1]:${server.port}`), "wrong");
    await c.opened;
    expect(await c.hello()).toMatchObject({ type: "error", code: "unauthorized" });
    expect(await upgradeStatus(server.port, "evil.example.com", "::1")).toBe(403);
    expect(await upgradeStatus(server.port, `[::1]:${server.port}`, "::1")).toBe(101);
    expect(await upgradeStatus(server.port, "evil.example.com", "127.0.0.1")).toBe(403);
  });

  it("closes sockets and stops listening on both addresses when shut down", async () => {
    server = await start({ engines: fakeEngines().engines });
    const { port, token } = server;
    const v4 = await pairAt(`ws://127.0.0.1:${port}`, token);
    const v6 = await pairAt(`ws://[::1]:${port}`, token);
    await server.close();
    expect((await v4.closed).code).toBe(1001);
    expect((await v6.closed).code).toBe(1001);
    expect(await refused(`ws://127.0.0.1:${port}`)).toBe("ECONNREFUSED");
    expect(await refused(`ws://[::1]:${port}`)).toBe("ECONNREFUSED");
  });

  it("listens only on the address named with host", async () => {
    server = await start({ engines: fakeEngines().engines, host: "127.0.0.1" });
    expect(server.addresses).toEqual(["127.0.0.1"]);
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}`);
    expect(await refused(`ws://[::1]:${server.port}`)).toBe("ECONNREFUSED");
  });

  it("fails with the address when the port is taken on ::1 only, leaving nothing listening", async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, "::1", r));
    const port = (squatter.address() as { port: number }).port;
    try {
      await expect(start({ engines: fakeEngines().engines, port })).rejects.toMatchObject({
        code: "EADDRINUSE",
        address: "::1",
      });
      expect(await refused(`ws://127.0.0.1:${port}`)).toBe("ECONNREFUSED");
    } finally {
      squatter.close();
    }
  });
});

describe("without an IPv6 loopback", () => {
  it("says so and serves on 127.0.0.1 alone", async () => {
    // 192.0.2.1 (TEST-NET-1) is not an address of this machine: it stands in for a missing ::1.
    const answer = () => createHttpServer((_req, res) => res.end());
    const l = await listenLoopback(undefined, 0, answer, ["127.0.0.1", "192.0.2.1"]);
    try {
      expect(l.addresses).toEqual(["127.0.0.1"]);
      expect(l.servers).toHaveLength(1);
      expect(l.note).toMatch(
        /^the address 192\.0\.2\.1 is not available here \(E[A-Z]+\), so only 127\.0\.0\.1 is served$/,
      );
      expect(await fetch(`http://127.0.0.1:${l.port}/`).then((r) => r.status)).toBe(200);
    } finally {
      for (const s of l.servers) s.close();
    }
  });
});
