// The engine through its public API, with real worker threads (bundled from the sources).
import { describe, expect, it } from "vitest";
import { createPrimitives, type PrimitivesEvent } from "../../companion/primitives/engine";
import { streamPrimitives } from "../../shared/primitives/stream";
import type { PrimitivesOptions, ServerMessage } from "../../shared/protocol";
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
    expect(session.exhausted).toBe(false);
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

  it("draws only shapes that help, and ends early once none does", async () => {
    // Green and magenta on a sunset: few shapes help. Each drawn one still lowers the score (the
    // best of a step's searches used to be drawn whatever it did: off the canvas, or worse), and
    // the run ends after FRUITLESS_STEPS searches in a row found nothing.
    const session = await createPrimitives(image, options({ count: 80, palette: ["#00ff00", "#ff00ff"] }), {
      workers: 2,
      budget,
    });
    const events = await allEvents(session);
    let last = session.initialScore;
    for (const e of events) {
      expect(e.score).toBeLessThan(last);
      last = e.score;
    }
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThan(80);
    expect(session.exhausted).toBe(true);
  });

  it("a flat colour gets no shapes, and the stream says why before the result", async () => {
    const flat = { width: 40, height: 30, data: new Uint8Array(40 * 30 * 4).fill(255) };
    for (let i = 0; i < flat.data.length; i += 4) flat.data.set([30, 120, 200], i);
    const o = options({ count: 50 });
    const session = await createPrimitives(flat, o, { workers: 2, budget });
    const sent: ServerMessage[] = [];
    try {
      expect(await streamPrimitives(session, "j", o, (m) => sent.push(m))).toBe(true);
    } finally {
      await session.close();
    }
    expect(sent.map((m) => m.type).slice(-2)).toEqual(["note", "result"]);
    expect(sent.at(-2)).toMatchObject({
      message: expect.stringMatching(/^No shapes were added: repeated searches found none/),
    });
    expect(sent.at(-1)).toMatchObject({ result: { shapes: [], background: { r: 30, g: 120, b: 200 } } });
  });

  it("rejects bad options clearly", async () => {
    await expect(createPrimitives(image, { ...options(), count: 0 }, { workers: 1, budget })).rejects.toMatchObject({
      code: "bad-message",
      message: expect.stringMatching(/primitives options/),
    });
  });
});
