// The engine through its public API, with real worker threads (bundled from the sources).
import { describe, expect, it } from "vitest";
import { createPrimitives, type PrimitivesEvent } from "../../companion/primitives/engine";
import type { PrimitivesOptions } from "../../shared/protocol";
import { allEvents, testCard, testOptions } from "./helpers";

/** A light search so the suite stays fast; the algorithm is the same. */
const budget = { climbs: 4, candidates: 60, age: 20 };
const image = testCard(80, 60);
const options = testOptions;

async function collect(o: Partial<PrimitivesOptions>, workers = 2): Promise<PrimitivesEvent[]> {
  return allEvents(await createPrimitives(image, options(o), { workers, budget }));
}

describe("primitives engine", () => {
  it("works at the requested size and lowers the score with every shape", async () => {
    const session = await createPrimitives(image, options(), { workers: 2, budget });
    expect([session.width, session.height]).toEqual([48, 36]);
    let last = session.initialScore;
    let count = 0;
    for await (const e of session.shapes()) {
      expect(e.index).toBe(count++);
      expect(e.shape.type).toBe("triangle");
      expect(e.shape.color.a).toBe(128);
      expect(e.score).toBeLessThan(last);
      last = e.score;
    }
    expect(count).toBe(12);
    await expect(session.shapes().next()).rejects.toThrow(/only be iterated once/);
    await session.close();
    await session.close(); // twice is fine
  });

  it("is deterministic for a seed, whatever the worker count, and the seed matters", async () => {
    const a = await collect({ seed: 5 });
    const b = await collect({ seed: 5 });
    const one = await collect({ seed: 5 }, 1);
    const three = await collect({ seed: 5 }, 3);
    const c = await collect({ seed: 6 });
    expect(b).toEqual(a);
    expect(one).toEqual(a);
    expect(three).toEqual(a);
    expect(c.map((e) => e.shape)).not.toEqual(a.map((e) => e.shape));
  });

  it("finds every shape type, per-shape alpha, a hex background and the seed variant", async () => {
    const combo = await collect({ shape: "combo", alpha: 0, count: 16, background: "#102030" });
    expect(new Set(combo.map((e) => e.shape.type)).size).toBeGreaterThan(1);
    expect(new Set(combo.map((e) => e.shape.color.a)).size).toBeGreaterThan(1);
    for (let i = 1; i < combo.length; i++) expect(combo[i].score).toBeLessThan(combo[i - 1].score);

    for (const shape of ["ellipse", "rotated-rectangle", "bezier", "polygon"] as const) {
      const events = await collect({ shape, count: 3 }, 1);
      expect(events.map((e) => e.shape.type)).toEqual([shape, shape, shape]);
    }

    const seeded = await collect({ algorithm: "seed", count: 20 });
    expect(seeded).toHaveLength(20);
    for (let i = 1; i < seeded.length; i++) expect(seeded[i].score).toBeLessThan(seeded[i - 1].score);
  });

  it("stops within 200 ms of an abort, without throwing", async () => {
    const controller = new AbortController();
    // A search heavy enough that one step takes far longer than 200 ms.
    const heavy = { climbs: 64, candidates: 20_000, age: 1000 };
    const session = await createPrimitives(image, options({ count: 50, workSize: 256 }), {
      workers: 2,
      budget: heavy,
      signal: controller.signal,
    });
    let abortedAt = Number.POSITIVE_INFINITY;
    setTimeout(() => {
      abortedAt = performance.now();
      controller.abort();
    }, 300);
    const events: PrimitivesEvent[] = [];
    for await (const e of session.shapes()) events.push(e);
    const stoppedAfter = performance.now() - abortedAt;
    await session.close();
    expect(events.length).toBeLessThan(50);
    expect(stoppedAfter).toBeLessThan(200);
  });

  it("can be closed mid-run: the iteration just ends", async () => {
    const session = await createPrimitives(image, options({ count: 500 }), { workers: 2, budget });
    let seen = 0;
    for await (const _ of session.shapes()) {
      if (++seen === 2) void session.close();
    }
    expect(seen).toBeGreaterThanOrEqual(2);
    expect(seen).toBeLessThan(500);
    await session.close();
  });

  it("rejects bad options clearly", async () => {
    await expect(createPrimitives(image, { ...options(), count: 0 }, { workers: 1, budget })).rejects.toMatchObject({
      code: "bad-message",
      message: expect.stringMatching(/primitives options/),
    });
  });
});
