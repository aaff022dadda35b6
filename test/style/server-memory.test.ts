// The memory guard seen from the plugin's side: the server passes the engine's "too-large"
// refusal through with its words, and the companion goes on serving the next job.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RunningServer } from "../../companion/server/server";
import { Client, gradient, start } from "../server/helpers";

let server: RunningServer | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await server?.close();
  server = undefined;
});

const listDevices = async () => [{ name: "cpu" as const, available: true }];

describe("a style job too large for the memory", () => {
  it("is refused with a clear message and the next job still runs", async () => {
    vi.stubEnv("STYLIZE_STYLE_MEM_MB", "1500");
    server = await start({ engines: { listDevices }, weights: "random:3" });
    const c = await Client.connect(server);
    c.json({ type: "style", id: "big", styles: 1, options: { size: 2048, iters: 4, device: "cpu" } });
    c.part("big", "content", await gradient(64, 48));
    c.part("big", "style:0", await gradient(32, 32));
    const refused = await c.outcome("big", 10_000);
    expect(refused).toMatchObject({ type: "error", code: "too-large" });
    if (refused.type === "error")
      expect(refused.message).toMatch(/^A 2048 px style transfer needs about .*at most \d+ px/);

    c.json({ type: "style", id: "small", styles: 1, options: { size: 32, iters: 2, device: "cpu", previewEvery: 0 } });
    c.part("small", "content", await gradient(48, 32));
    c.part("small", "style:0", await gradient(24, 24));
    expect(await c.outcome("small", 60_000)).toMatchObject({ type: "result", kind: "style", width: 32 });
  });
});
