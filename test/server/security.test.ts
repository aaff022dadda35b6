// Pairing, DNS-rebinding and size defences, exercised with real sockets.
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync, crc32 } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import pino from "pino";
import WebSocket from "ws";
import { PROTOCOL_VERSION } from "../../shared/protocol";
import { hostName, isLoopbackHost } from "../../companion/server/host";
import type { RunningServer } from "../../companion/server/server";
import { loadOrCreateToken, resetToken, tokenMatches } from "../../companion/server/token";
import { Client, fakeEngines, png, start, tempDir, upgradeStatus } from "./helpers";

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A PNG whose header claims `width` x `height` but whose pixel data is a few bytes of nothing. */
function bombPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.alloc(1000))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

describe("pairing token", () => {
  it("is created once with user-only permissions, then reused", () => {
    const path = join(tempDir(), "nested", "token");
    const first = loadOrCreateToken(path);
    expect(first.created).toBe(true);
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    if (process.platform !== "win32") expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadOrCreateToken(path)).toMatchObject({ token: first.token, created: false });
    const fresh = resetToken(path);
    expect(fresh).not.toBe(first.token);
    expect(loadOrCreateToken(path).token).toBe(fresh);
  });

  it("fills an empty token file, never overwrites one holding something else", () => {
    const dir = tempDir();
    const empty = join(dir, "empty");
    writeFileSync(empty, "");
    expect(loadOrCreateToken(empty).created).toBe(true);
    const nvmrc = join(dir, ".nvmrc");
    writeFileSync(nvmrc, "20\n");
    expect(() => loadOrCreateToken(nvmrc)).toThrow(/left alone/);
    expect(() => loadOrCreateToken(dir)).toThrow(/is a folder, not a pairing token file/);
    const notes = join(dir, "notes.txt");
    writeFileSync(notes, "my notes, not a token\n");
    expect(() => loadOrCreateToken(notes)).toThrow(/holds something other than a pairing token; it was left alone/);
    expect(() => resetToken(notes)).toThrow(/left alone/);
    expect(readFileSync(notes, "utf8")).toBe("my notes, not a token\n");
  });

  it("compares tokens exactly", () => {
    expect(tokenMatches("abc", "abc")).toBe(true);
    expect(tokenMatches("abc", "abd")).toBe(false);
    expect(tokenMatches("abc", "abcabc")).toBe(false);
    expect(tokenMatches("abc", "")).toBe(false);
  });

  it("refuses a wrong token with an error and a policy-violation close", async () => {
    server = await start({ engines: fakeEngines().engines });
    const c = await Client.connect(server, { hello: false });
    const reply = await c.hello("not-the-token-at-all");
    expect(reply).toMatchObject({ type: "error", code: "unauthorized" });
    if (reply.type === "error") expect(reply.message).toMatch(/stylize pair/);
    expect((await c.closed).code).toBe(1008);
  });

  it("accepts nothing before hello", async () => {
    server = await start({ engines: fakeEngines().engines });
    const c = await Client.connect(server, { hello: false });
    c.primitives("sneaky", await png(8, 8));
    expect((await c.closed).code).toBe(1008);
    expect(c.messages()).toEqual([expect.objectContaining({ type: "error", code: "unauthorized" })]);
    const c2 = await Client.connect(server, { hello: false });
    c2.part("sneaky", "image", await png(8, 8));
    expect((await c2.closed).code).toBe(1008);
  });

  it("closes a socket that never says hello", async () => {
    server = await start({ engines: fakeEngines().engines, limits: { helloTimeoutMs: 150 } });
    const c = await Client.connect(server, { hello: false });
    expect((await c.closed).code).toBe(1008);
  });
});

describe("DNS rebinding", () => {
  it("only upgrades for loopback Host names", async () => {
    server = await start({ engines: fakeEngines().engines });
    const { port } = server;
    expect(await upgradeStatus(port, "evil.example.com")).toBe(403);
    expect(await upgradeStatus(port, `attacker.test:${port}`)).toBe(403);
    expect(await upgradeStatus(port, `127.0.0.1.nip.io:${port}`)).toBe(403);
    expect(await upgradeStatus(port, "")).toBe(403);
    expect(server.stats().clients).toBe(0); // refused sockets never became clients
    expect(await upgradeStatus(port, `localhost:${port}`)).toBe(101);
    expect(await upgradeStatus(port, `127.0.0.1:${port}`)).toBe(101);
    expect(await upgradeStatus(port, `[::1]:${port}`)).toBe(101);
  });

  it("logs the Origin of each connection", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(l) });
    server = await start({ engines: fakeEngines().engines, logger });
    const ws = new WebSocket(server.url, { headers: { Origin: "https://some.page.example" } });
    await new Client(ws).opened;
    expect(lines.some((l) => l.includes('"origin":"https://some.page.example"'))).toBe(true);
    ws.close();
  });

  it("parses Host headers strictly", () => {
    expect(hostName("LocalHost:80")).toBe("localhost");
    expect(hostName("[::1]:47615")).toBe("::1");
    expect(isLoopbackHost("localhost.evil.com")).toBe(false);
    expect(isLoopbackHost("127.0.0.1:80:90")).toBe(false);
    expect(isLoopbackHost(undefined)).toBe(false);
  });
});

describe("limits", () => {
  it("closes an oversize message with 1009 and a readable reason", async () => {
    server = await start({ engines: fakeEngines().engines, limits: { maxMessageBytes: 64 * 1024 } });
    const c = await Client.connect(server);
    c.json({ type: "primitives", id: "big", options: {} });
    c.part("big", "image", new Uint8Array(100 * 1024));
    const closed = await c.closed;
    expect(closed.code).toBe(1009);
    expect(closed.reason).toMatch(/larger than the 65536 byte limit/);
    // The server itself is fine.
    const c2 = await Client.connect(server);
    c2.primitives("small", await png(8, 8), { count: 2 });
    expect(await c2.outcome("small")).toMatchObject({ type: "result" });
  });

  it("refuses a decompression bomb from its header, before decoding", async () => {
    server = await start({ engines: fakeEngines().engines });
    const c = await Client.connect(server);
    const bomb = bombPng(100_000, 100_000);
    expect(bomb.length).toBeLessThan(2000);
    c.primitives("bomb", bomb);
    const err = await c.outcome("bomb");
    // Decoding would have failed as a corrupt file ("bad-image"); the header check comes first.
    expect(err).toMatchObject({ type: "error", code: "too-large" });
    if (err.type === "error") expect(err.message).toMatch(/100000x100000/);
  });

  it("applies the configured pixel limit", async () => {
    server = await start({ engines: fakeEngines().engines, limits: { maxImagePixels: 50 * 50 } });
    const c = await Client.connect(server);
    c.primitives("px", await png(60, 60));
    expect(await c.outcome("px")).toMatchObject({ type: "error", code: "too-large" });
    c.primitives("ok", await png(50, 50), { count: 1 });
    expect(await c.outcome("ok")).toMatchObject({ type: "result" });
  });

  it("limits the image bytes a client may have in flight", async () => {
    server = await start({ engines: fakeEngines().engines, limits: { maxPendingBytes: 4000 } });
    const c = await Client.connect(server);
    c.json({ type: "style", id: "heavy", styles: 2, options: {} });
    c.part("heavy", "style:0", new Uint8Array(3000));
    c.part("heavy", "style:1", new Uint8Array(3000));
    expect(await c.outcome("heavy")).toMatchObject({ type: "error", code: "too-large" });
  });
});

describe("connections", () => {
  it("refuses sockets beyond maxClients with 503 before upgrading", async () => {
    server = await start({ engines: fakeEngines().engines, limits: { maxClients: 2 } });
    const a = await Client.connect(server);
    await Client.connect(server, { hello: false }); // unpaired sockets count too
    expect(await upgradeStatus(server.port, `127.0.0.1:${server.port}`)).toBe(503);
    a.ws.close();
    await a.closed;
    while (server.stats().clients > 1) await new Promise((r) => setTimeout(r, 10));
    expect(await upgradeStatus(server.port, `127.0.0.1:${server.port}`)).toBe(101);
  });
});

describe("protocol version", () => {
  it("refuses a hello from another protocol version", async () => {
    server = await start({ engines: fakeEngines().engines });
    const ws = new WebSocket(server.url);
    const c = new Client(ws);
    await c.opened;
    c.json({ type: "hello", protocol: PROTOCOL_VERSION + 1, token: server.token });
    expect((await c.closed).code).toBe(1008);
    // the companion's own version comes with the refusal: the plugin says which side to update
    expect(c.messages()[0]).toMatchObject({ type: "error", code: "unauthorized", protocol: PROTOCOL_VERSION });
    expect((c.messages()[0] as { message: string }).message).toMatch(/different versions of Stylize/);
  });
});
