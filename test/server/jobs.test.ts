// Queueing, streaming, cancelling and error handling over a real socket, with fake engines.
import sharp from "sharp";
import WebSocket from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { PROTOCOL_VERSION, type ServerMessage, type ServerMessageOf } from "../../shared/protocol";
import type { RunningServer } from "../../companion/server/server";
import { join } from "node:path";
import { Client, fakeEngines, png, sleep, start, tempDir } from "./helpers";

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const is =
  <T extends ServerMessage["type"]>(type: T, id?: string) =>
  (m: ServerMessage): m is ServerMessageOf<T> =>
    m.type === type && (id === undefined || ("id" in m && m.id === id));

describe("companion server jobs", () => {
  it("answers hello with versions, devices, weights and limits", async () => {
    const { engines } = fakeEngines();
    server = await start({ engines, limits: { maxJobsPerClient: 3 } });
    const c = await Client.connect(server);
    const hello = c.messages().find(is("hello"))!;
    expect(hello).toMatchObject({ protocol: 1, weights: { installed: true }, limits: { maxJobsPerClient: 3 } });
    expect(hello.devices.map((d) => d.name)).toContain("cpu");
    c.json({ type: "ping", t: 42 });
    expect(await c.next(is("pong"))).toEqual({ type: "pong", t: 42 });
  });

  it("streams primitives shapes in ordered batches, then the whole list", async () => {
    const { engines, log } = fakeEngines();
    server = await start({ engines });
    const c = await Client.connect(server);
    c.primitives("p1", await png(300, 150), { count: 37, workSize: 64 });
    const result = await c.outcome("p1");
    expect(result.type).toBe("result");
    if (result.type !== "result" || result.kind !== "primitives") throw new Error("not a primitives result");
    expect(log.started).toEqual(["p:64x32:37"]); // decoded straight to the working size
    const batches = c.messages().filter(is("shapes", "p1"));
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.length).toBeLessThan(37); // batched, not one message per shape
    let next = 0;
    for (const b of batches) {
      expect(b.from).toBe(next);
      next += b.shapes.length;
    }
    expect(next).toBe(37);
    expect(result.result.shapes).toEqual(batches.flatMap((b) => b.shapes));
    expect(c.messages().find(is("accepted", "p1"))).toMatchObject({ position: 0 });
    const progress = c.messages().filter(is("progress", "p1"));
    expect(progress.at(-1)).toMatchObject({ done: 37, total: 37 });
    expect(log.closed).toBe(1);
  });

  it("runs a style job with progress, a PNG preview and the PNG result", async () => {
    const { engines, log } = fakeEngines();
    server = await start({ engines });
    const c = await Client.connect(server);
    c.json({ type: "style", id: "s1", styles: 2, masks: [1], options: { size: 32, iters: 6, previewEvery: 3 } });
    c.part("s1", "content", await png(64, 48));
    c.part("s1", "style:0", await png(20, 20));
    c.part("s1", "style:1", await png(20, 20));
    c.part("s1", "mask:1", await png(64, 48));
    const result = await c.outcome("s1");
    expect(result).toMatchObject({ type: "result", kind: "style", width: 32, height: 24, device: "fake" });
    expect(log.started).toEqual(["s:32x24:2"]);
    expect(
      c
        .messages()
        .filter(is("progress", "s1"))
        .map((p) => p.done),
    ).toEqual([1, 2, 3, 4, 5, 6]);
    const parts = c.received.flatMap((r) => (r.kind === "binary" ? [r] : []));
    expect(parts.map((p) => p.header.part)).toEqual(["preview", "preview", "result"]);
    const meta = await sharp(parts[2].payload).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["png", 32, 24]);
  });

  it("refuses style jobs when the weights are missing, naming the fix", async () => {
    const missing = join(tempDir(), "vgg19.h5");
    const { engines, log } = fakeEngines();
    server = await start({ engines, weights: missing });
    const c = await Client.connect(server);
    expect(c.messages().find(is("hello"))?.weights).toEqual({ installed: false, path: missing });
    c.json({ type: "style", id: "nw", styles: 1, options: { size: 16 } });
    c.part("nw", "content", await png(8, 8));
    c.part("nw", "style:0", await png(8, 8));
    const err = await c.outcome("nw");
    expect(err).toMatchObject({ type: "error", code: "weights-missing" });
    if (err.type === "error") expect(err.message).toMatch(/stylize weights fetch/);
    expect(log.started).toEqual([]);
  });

  it("refuses inconsistent style jobs before waiting for images", async () => {
    server = await start({ engines: fakeEngines().engines });
    const c = await Client.connect(server);
    c.json({ type: "style", id: "s2", styles: 2, options: { styleBlend: [1] } });
    expect(await c.outcome("s2")).toMatchObject({ type: "error", code: "bad-message" });
    c.json({ type: "style", id: "s3", styles: 1, masks: [3], options: {} });
    expect(await c.outcome("s3")).toMatchObject({ type: "error", code: "bad-message" });
  });

  it("queues with positions and serves clients fairly", async () => {
    const { engines, log } = fakeEngines({ shapeDelayMs: 20 });
    server = await start({ engines, concurrency: { primitives: 1 } });
    const a = await Client.connect(server);
    const b = await Client.connect(server);
    const img = await png(16, 16);
    for (const id of ["a1", "a2", "a3"]) {
      a.primitives(id, img, { count: 3 + Number(id[1]) });
      await a.next(is("accepted", id)); // keep the order deterministic
    }
    b.primitives("b1", img, { count: 9 });
    expect(
      a
        .messages()
        .filter(is("accepted"))
        .map((m) => m.position),
    ).toEqual([0, 1, 2]);
    // b1 arrived last but b has not been served yet, so it goes ahead of a2 and a3.
    expect(await b.next(is("accepted", "b1"))).toMatchObject({ position: 1 });
    await Promise.all(["a1", "a2", "a3"].map((id) => a.outcome(id)));
    await b.outcome("b1");
    expect(log.started).toEqual(["p:16x16:4", "p:16x16:9", "p:16x16:5", "p:16x16:6"]);
  });

  it("places a job in line when its images are in: a job admitted first but complete later goes behind", async () => {
    const { engines, log } = fakeEngines({ shapeDelayMs: 20 });
    server = await start({ engines, concurrency: { primitives: 1 } });
    const c = await Client.connect(server);
    const img = await png(16, 16);
    c.primitives("r1", img, { count: 4 });
    await c.next(is("accepted", "r1"));
    c.json({ type: "primitives", id: "early", options: { count: 5 } });
    c.json({ type: "primitives", id: "late", options: { count: 6 } });
    c.part("late", "image", img);
    expect(await c.next(is("accepted", "late"))).toMatchObject({ position: 1 });
    c.part("early", "image", img);
    expect(await c.next(is("accepted", "early"))).toMatchObject({ position: 2 });
    await Promise.all(["r1", "early", "late"].map((id) => c.outcome(id)));
    expect(log.started).toEqual(["p:16x16:4", "p:16x16:6", "p:16x16:5"]);
  });

  it("cancels waiting and running jobs, and says so once", async () => {
    const { engines, log } = fakeEngines({ shapeDelayMs: 30 });
    server = await start({ engines, concurrency: { primitives: 1 } });
    const c = await Client.connect(server);
    const img = await png(16, 16);
    c.primitives("run", img, { count: 1000 });
    await c.next(is("accepted", "run")); // images decode in parallel: fix the order
    c.primitives("wait", img, { count: 5 });
    await c.next(is("accepted", "wait"));
    await c.next(is("shapes", "run"));
    c.json({ type: "cancel", id: "wait" });
    c.json({ type: "cancel", id: "run" });
    expect(await c.outcome("wait")).toEqual({ type: "cancelled", id: "wait" });
    expect(await c.outcome("run")).toEqual({ type: "cancelled", id: "run" });
    expect(log.started).toHaveLength(1); // the waiting job never started
    expect(log.closed).toBe(1);
    await sleep(100);
    expect(c.of("run").filter((m) => ["result", "cancelled", "error"].includes(m.type))).toHaveLength(1);
    c.json({ type: "cancel", id: "nope" });
    expect(await c.outcome("nope")).toMatchObject({ type: "error", code: "bad-message" });
    expect(server.stats()).toMatchObject({ jobs: 0, running: 0 });
  });

  it("cancels a job still waiting for its images", async () => {
    server = await start({ engines: fakeEngines().engines });
    const c = await Client.connect(server);
    c.json({ type: "primitives", id: "half", options: {} });
    c.json({ type: "cancel", id: "half" });
    expect(await c.outcome("half")).toEqual({ type: "cancelled", id: "half" });
    c.part("half", "image", await png(8, 8)); // late part of a cancelled job: dropped quietly
    c.json({ type: "ping" });
    await c.next(is("pong"));
    expect(c.messages().filter(is("error"))).toEqual([]);
  });

  it("says busy past the per-client and queue limits, and refuses duplicate ids", async () => {
    const { engines } = fakeEngines({ shapeDelayMs: 50 });
    server = await start({ engines, limits: { maxJobsPerClient: 2, maxQueue: 2 }, concurrency: { primitives: 1 } });
    const a = await Client.connect(server);
    const b = await Client.connect(server);
    const img = await png(16, 16);
    a.primitives("x", img, { count: 100 });
    await a.next(is("accepted", "x"));
    a.primitives("x", img);
    expect(await a.outcome("x")).toMatchObject({ type: "error", code: "duplicate-job" });
    a.primitives("y", img);
    await a.next(is("accepted", "y"));
    a.primitives("z", img);
    expect(await a.outcome("z")).toMatchObject({ type: "error", code: "busy" });
    b.primitives("q1", img);
    await b.next(is("accepted", "q1"));
    b.primitives("q2", img);
    const busy = await b.outcome("q2");
    expect(busy).toMatchObject({ type: "error", code: "busy" });
    if (busy.type === "error") expect(busy.message).toMatch(/busy/);
    // Refused jobs' images are dropped without an error each.
    expect(
      a
        .messages()
        .filter(is("error"))
        .map((m) => m.id),
    ).toEqual(["x", "z"]);
  });

  it("answers malformed input with an error and keeps the socket working", async () => {
    server = await start({ engines: fakeEngines().engines });
    const c = await Client.connect(server);
    c.ws.send("{not json");
    c.json({ type: "format-disk", id: "j" });
    c.json({ type: "primitives", id: "bad", options: { count: -1 } });
    c.ws.send(Buffer.from([1, 2, 3]));
    c.part("ghost", "image", new Uint8Array([1]));
    const full = await png(32, 32);
    c.json({ type: "primitives", id: "trunc", options: {} });
    c.part("trunc", "image", full.subarray(0, full.length - 20));
    c.json({ type: "primitives", id: "wrongpart", options: {} });
    c.part("wrongpart", "content", full);
    const bad = await c.outcome("trunc");
    expect(bad).toMatchObject({ type: "error", code: "bad-image" });
    if (bad.type === "error")
      expect(bad.message).toBe("Cannot decode the layer's image: the file is truncated or corrupt");
    expect(await c.outcome("wrongpart")).toMatchObject({ type: "error", code: "bad-message" });
    const errors = c.messages().filter(is("error"));
    expect(errors.map((e) => e.code).sort()).toEqual([...Array(6).fill("bad-message"), "bad-image"].sort());
    expect(errors[1]).toMatchObject({ id: "j" }); // errors name the job when they can
    expect(errors[2].message).toMatch(/options\.count/);
    c.primitives("ok", full, { count: 3 });
    expect(await c.outcome("ok")).toMatchObject({ type: "result" });
    // a focus that marks nothing is refused, not quietly ignored
    c.json({ type: "primitives", id: "nofocus", options: {}, focus: true });
    c.part("nofocus", "image", full);
    c.part("nofocus", "focus", await png(32, 32, { r: 0, g: 0, b: 0 }));
    const nofocus = await c.outcome("nofocus");
    expect(nofocus).toMatchObject({ type: "error", code: "bad-message" });
    if (nofocus.type === "error") expect(nofocus.message).toMatch(/^The focus layer's image marks no area/);
    // a style job names the image at fault
    const cut = full.subarray(0, full.length - 20);
    const names = {
      content: "the layer's image",
      "style:1": "the style image 2",
      "mask:1": "the region layer of style 2",
    };
    for (const [bad, name] of Object.entries(names)) {
      const id = `st-${bad.replace(":", "")}`;
      c.json({ type: "style", id, styles: 2, masks: [1], options: { size: 32 } });
      for (const part of ["content", "style:0", "style:1", "mask:1"] as const)
        c.part(id, part, part === bad ? cut : full);
      const style = await c.outcome(id);
      expect(style).toMatchObject({ type: "error", code: "bad-image" });
      if (style.type === "error") expect(style.message).toBe(`Cannot decode ${name}: the file is truncated or corrupt`);
    }
    // an empty part (0 bytes) says so
    c.json({ type: "primitives", id: "empty", options: {} });
    c.part("empty", "image", new Uint8Array(0));
    const empty = await c.outcome("empty");
    if (empty.type === "error") expect(empty.message).toBe("Cannot read the layer's image: it is empty (0 bytes)");
    else expect.unreachable(`an empty image got ${empty.type}`);
    expect(c.invalid).toEqual([]);
  });

  it("fails only the job whose engine throws", async () => {
    server = await start({ engines: fakeEngines({ fail: true }).engines });
    const c = await Client.connect(server);
    c.primitives("boom", await png(8, 8));
    const err = await c.outcome("boom");
    expect(err).toMatchObject({ type: "error", code: "internal" });
    if (err.type === "error") expect(err.message).toMatch(/boom in the engine/);
    c.json({ type: "ping" });
    await c.next(is("pong"));
    expect(server.stats()).toMatchObject({ jobs: 0, running: 0 });
  });

  it("gives up on images that never arrive", async () => {
    server = await start({ engines: fakeEngines().engines, limits: { partsTimeoutMs: 200 } });
    const c = await Client.connect(server);
    c.json({ type: "style", id: "slow", styles: 1, options: {} });
    c.part("slow", "content", await png(8, 8));
    const err = await c.outcome("slow");
    expect(err).toMatchObject({ type: "error", code: "bad-message" });
    if (err.type === "error") expect(err.message).toMatch(/did not arrive/);
    expect(server.stats().jobs).toBe(0);
  });

  it("cancels a disconnected client's jobs within a second", async () => {
    const { engines, log } = fakeEngines({ shapeDelayMs: 20 });
    server = await start({ engines, concurrency: { primitives: 1 } });
    const c = await Client.connect(server);
    const img = await png(16, 16);
    c.primitives("r", img, { count: 5000 });
    await c.next(is("accepted", "r"));
    c.primitives("w", img, { count: 5000 });
    await c.next(is("shapes", "r"));
    const t0 = Date.now();
    c.ws.terminate();
    while (server.stats().jobs > 0 && Date.now() - t0 < 1000) await sleep(10);
    expect(server.stats()).toMatchObject({ clients: 0, jobs: 0, running: 0 });
    expect(log.closed).toBe(1);
    expect(log.started).toHaveLength(1);
  });

  it("does not start a job queued behind a slow hello once its client has left", async () => {
    const { engines, log } = fakeEngines({ shapeDelayMs: 20 });
    // device probing that outlasts the client: the hello reply waits on it (up to 1.5 s)
    engines.listDevices = () => sleep(5000).then(() => [{ name: "cpu" as const, available: true }]);
    server = await start({ engines });
    const c = new Client(new WebSocket(server.url), server.token);
    await c.opened;
    c.json({ type: "hello", protocol: PROTOCOL_VERSION, token: server.token, client: "test" });
    c.primitives("late", await png(16, 16), { count: 50 });
    await sleep(100);
    c.ws.close();
    await c.closed;
    await sleep(2000); // past the hello wait, when the queued messages are handled
    expect(log.started).toEqual([]);
    expect(server.stats()).toMatchObject({ clients: 0, jobs: 0 });
  });

  it("drops a client that stops answering pings, cancelling its jobs", async () => {
    const { engines, log } = fakeEngines({ shapeDelayMs: 20 });
    // long enough for the first shapes to arrive on a busy machine
    server = await start({ engines, limits: { heartbeatMs: 600 } });
    const c = new Client(new WebSocket(server.url, { autoPong: false }), server.token);
    await c.opened;
    await c.hello();
    c.primitives("zombie", await png(16, 16), { count: 5000 });
    await c.next(is("shapes", "zombie"));
    expect((await c.closed).code).toBe(1006); // terminated, no close handshake
    while (server.stats().jobs > 0) await sleep(10);
    expect(log.closed).toBe(1);
  });

  it("on close, cancels jobs and closes sockets with 1001 and a reason", async () => {
    const { engines } = fakeEngines({ shapeDelayMs: 20 });
    server = await start({ engines });
    const c = await Client.connect(server);
    c.primitives("long", await png(16, 16), { count: 5000 });
    await c.next(is("shapes", "long"));
    await server.close();
    server = undefined;
    expect(await c.outcome("long")).toEqual({ type: "cancelled", id: "long" });
    expect(await c.closed).toEqual({ code: 1001, reason: "the companion is shutting down" });
  });
});
