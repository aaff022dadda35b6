// The server driving the real engines: a primitives job with live shapes (and a disconnect that
// must stop its worker pool), and a style job with random VGG weights at a tiny size.
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import { type Shape, ShapeSchema } from "../../shared/shapes";
import * as v from "valibot";
import type { RunningServer } from "../../companion/server/server";
import { Client, gradient, png, sleep, start } from "./helpers";

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

// Device probing spawns processes; these tests are about jobs, so report CPU only.
const listDevices = async () => [{ name: "cpu" as const, available: true }];

describe("real engines over the socket", () => {
  it("runs a primitives job and streams the shapes as they are found", async () => {
    server = await start({ engines: { listDevices }, primitivesWorkers: 1 });
    const c = await Client.connect(server);
    c.primitives("prim", await gradient(64, 48), { count: 12, workSize: 32, shape: "ellipse", seed: 3 });
    const result = await c.outcome("prim", 30_000);
    if (result.type !== "result" || result.kind !== "primitives") throw new Error(JSON.stringify(result));
    expect([result.result.width, result.result.height]).toEqual([32, 24]);
    expect(result.result.shapes).toHaveLength(12);
    for (const s of result.result.shapes) expect(v.is(ShapeSchema, s) && s.type === "ellipse").toBe(true);
    const batches = c.of("prim").filter((m) => m.type === "shapes");
    expect(batches.length).toBeGreaterThanOrEqual(1);
    // the result is the streamed shapes with their colours refitted at the end: the same geometry, a lower error
    const geometry = (shapes: Shape[]) => shapes.map(({ color: _, ...g }) => g);
    const streamed = batches.flatMap((b) => (b.type === "shapes" ? b.shapes : []));
    expect(geometry(streamed)).toEqual(geometry(result.result.shapes));
    expect(streamed).not.toEqual(result.result.shapes);
    const scores = c.of("prim").flatMap((m) => (m.type === "progress" ? [m.value] : []));
    expect(scores.at(-1)).toBeLessThan(scores[0] + 1e-9); // the picture only gets closer
    expect(result.result.score).toBeLessThan(scores.at(-1)!);
  });

  it("takes a palette and a focus mask part: fills come from the palette, the focus changes the shapes", async () => {
    server = await start({ engines: { listDevices }, primitivesWorkers: 1 });
    const c = await Client.connect(server);
    const image = await gradient(64, 48);
    const palette = ["#000000", "#ffffff", "#3366cc", "#cc3333"];
    const options = { count: 10, workSize: 32, seed: 4, palette, focusWeight: 10 };
    const mask = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#000000" } })
      .composite([{ input: await png(20, 48, { r: 255, g: 255, b: 255 }), left: 0, top: 0 }])
      .png()
      .toBuffer();
    c.json({ type: "primitives", id: "focused", options, focus: true });
    c.part("focused", "image", image);
    c.part("focused", "focus", mask);
    c.primitives("plain", image, options);
    const [focused, plain] = [await c.outcome("focused", 30_000), await c.outcome("plain", 30_000)];
    if (focused.type !== "result" || focused.kind !== "primitives") throw new Error(JSON.stringify(focused));
    if (plain.type !== "result" || plain.kind !== "primitives") throw new Error(JSON.stringify(plain));
    const hex = (x: { r: number; g: number; b: number }) =>
      `#${[x.r, x.g, x.b].map((n) => n.toString(16).padStart(2, "0")).join("")}`;
    for (const s of [...focused.result.shapes, ...plain.result.shapes]) expect(palette).toContain(hex(s.color));
    expect(focused.result.shapes).not.toEqual(plain.result.shapes);
  });

  it("stops the worker pool within a second when the client disconnects", async () => {
    server = await start({ engines: { listDevices }, primitivesWorkers: 1 });
    const c = await Client.connect(server);
    c.primitives("long", await gradient(64, 64), { count: 5000, workSize: 64 });
    await c.next((m) => m.type === "shapes", 30_000);
    expect(server.stats().running).toBe(1);
    const t0 = Date.now();
    c.ws.terminate();
    // A job leaves `running` only after its session's close() (which ends the workers) resolved.
    while (server.stats().jobs > 0 && Date.now() - t0 < 1000) await sleep(10);
    expect(server.stats()).toMatchObject({ clients: 0, jobs: 0, running: 0 });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it("runs a style job with random weights at 32 px: progress, preview and the PNG result", async () => {
    server = await start({ engines: { listDevices }, weights: "random:7" });
    const c = await Client.connect(server);
    const options = { size: 32, iters: 4, previewEvery: 2, device: "cpu", optimizer: "adam" };
    c.json({ type: "style", id: "sty", styles: 1, options });
    c.part("sty", "content", await gradient(48, 32));
    c.part("sty", "style:0", await png(24, 24, { r: 20, g: 180, b: 90 }));
    const result = await c.outcome("sty", 60_000);
    expect(result).toMatchObject({ type: "result", kind: "style", width: 32, device: "cpu" });
    const progress = c.of("sty").flatMap((m) => (m.type === "progress" ? [m] : []));
    expect(progress.at(-1)).toMatchObject({ done: 4, total: 4 });
    expect(progress.every((p) => Number.isFinite(p.value) && p.terms !== undefined)).toBe(true);
    const parts = c.received.flatMap((r) => (r.kind === "binary" && r.header.id === "sty" ? [r] : []));
    expect(parts.map((p) => p.header.part)).toContain("preview");
    expect(c.of("sty").some((m) => m.type === "note" && /random weights/.test(m.message))).toBe(true);
    const png_ = parts.find((p) => p.header.part === "result")!;
    const meta = await sharp(png_.payload).metadata();
    expect(meta.format).toBe("png");
    if (result.type === "result" && result.kind === "style")
      expect([meta.width, meta.height]).toEqual([result.width, result.height]);
  });

  it("cancels a running style job promptly", async () => {
    server = await start({ engines: { listDevices }, weights: "random" });
    const c = await Client.connect(server);
    c.json({ type: "style", id: "stop", styles: 1, options: { size: 32, iters: 2000, device: "cpu" } });
    c.part("stop", "content", await gradient(32, 32));
    c.part("stop", "style:0", await gradient(16, 16));
    await c.next((m) => m.type === "progress", 60_000);
    const t0 = Date.now();
    c.json({ type: "cancel", id: "stop" });
    expect(await c.outcome("stop", 10_000)).toEqual({ type: "cancelled", id: "stop" });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(server.stats().jobs).toBe(0);
  });

  it("accepts JPEG as well as PNG", async () => {
    server = await start({ engines: { listDevices } });
    const c = await Client.connect(server);
    const jpeg = await sharp(await gradient(40, 40))
      .jpeg()
      .toBuffer();
    c.primitives("jpeg", jpeg, { count: 2, workSize: 16 });
    expect(await c.outcome("jpeg", 30_000)).toMatchObject({ type: "result" });
  });
});
