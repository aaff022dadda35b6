// The load runner behind `stylize bench load`, small and with a fake engine: every job must end
// as a result or a clean `busy`, and nothing may be left on the server.
import { describe, expect, it } from "vitest";
import { runLoad } from "../../companion/server/load";
import { fakeEngines } from "./helpers";

describe("load runner", () => {
  it("counts completed and busy jobs and leaves nothing behind", async () => {
    const r = await runLoad({
      clients: 6,
      jobsPerClient: 5,
      shapes: 3,
      size: 16,
      server: { engines: fakeEngines({ shapeDelayMs: 5 }).engines, limits: { maxQueue: 10 } },
    });
    expect(r.failed).toEqual([]);
    expect(r.completed + r.busy).toBe(30);
    expect(r.busy).toBeGreaterThanOrEqual(30 - 6 * 4); // at most 4 jobs per client are admitted
    expect(r.completed).toBeGreaterThan(0);
    expect(r.latencyMs.p95).toBeGreaterThanOrEqual(r.latencyMs.p50);
    expect(r.rssMb.peak).toBeGreaterThanOrEqual(r.rssMb.baseline);
    expect(r.leftover).toEqual({ jobs: 0, clients: 0 });
  });
});
