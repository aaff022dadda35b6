// Thousands of random and mutated messages over one real socket: the server must answer each
// with schema-valid messages (bad ones with an `error`), never crash, and still run a job after.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeFrame, type FrameHeader } from "../../shared/frames";
import { PROTOCOL_VERSION, parseClientMessage } from "../../shared/protocol";
import type { RunningServer } from "../../companion/server/server";
import { Client, fakeEngines, png, start } from "./helpers";

let server: RunningServer;
let client: Client;
let tiny: Buffer;
beforeAll(async () => {
  server = await start({
    engines: fakeEngines().engines,
    limits: { partsTimeoutMs: 300, maxMessageBytes: 256 * 1024, maxJobsPerClient: 3 },
  });
  client = await Client.connect(server);
  tiny = await png(4, 4);
});
afterAll(() => server.close());

const ids = fc.constantFrom("a", "b", "job-1", "x_2");
const parts = fc.constantFrom<FrameHeader["part"]>("content", "image", "style:0", "style:1", "mask:0", "result");
const valid = fc.oneof(
  fc.record({ type: fc.constant("ping"), t: fc.double() }),
  fc.record({ type: fc.constant("cancel"), id: ids }),
  fc.record({ type: fc.constant("hello"), protocol: fc.constant(PROTOCOL_VERSION), token: fc.string() }),
  fc.record({
    type: fc.constant("primitives"),
    id: ids,
    options: fc.record({ count: fc.integer({ min: 1, max: 5 }), workSize: fc.constant(16) }),
  }),
  fc.record({ type: fc.constant("style"), id: ids, styles: fc.integer({ min: 1, max: 2 }), options: fc.record({}) }),
);
/** A valid message with one field replaced by arbitrary JSON, or removed. */
const mutated = fc
  .tuple(valid, fc.string({ maxLength: 12 }), fc.option(fc.jsonValue({ maxDepth: 2 })))
  .map(([msg, key, value]) => {
    const m: Record<string, unknown> = { ...msg };
    const k = Object.keys(m)[key.length % Object.keys(m).length] ?? key;
    if (value === null) delete m[k];
    else m[key.length % 3 === 0 ? key : k] = value;
    return JSON.stringify(m);
  });
const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.jsonValue({ maxDepth: 3 }).map((j) => JSON.stringify(j)),
  valid.map((m) => JSON.stringify(m)),
  mutated,
);
const binary = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.tuple(ids, parts, fc.uint8Array({ maxLength: 100 })).map(([id, part, p]) => encodeFrame({ id, part }, p)),
  fc.tuple(ids, parts).map(([id, part]) => encodeFrame({ id, part }, tiny)),
  fc.tuple(ids, parts, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([id, part, at, byte]) => {
    const f = encodeFrame({ id, part }, tiny);
    f[at % f.length] = byte; // flip one byte anywhere, header included
    return f;
  }),
);

let seq = 0;
/** Send one message, then a ping; everything up to the pong is this message's answer. */
async function exchange(payload: string | Uint8Array) {
  if (client.ws.readyState !== client.ws.OPEN) client = await Client.connect(server);
  const from = client.messages().length;
  const t = ++seq;
  client.ws.send(payload);
  client.json({ type: "ping", t });
  await client.next((m) => m.type === "pong" && m.t === t, 10_000, from);
  return client.messages().slice(from);
}

describe("fuzzing the socket", () => {
  it("answers random and mutated text with valid messages, errors for the bad ones", async () => {
    await fc.assert(
      fc.asyncProperty(text, async (payload) => {
        const answer = await exchange(payload);
        if (!parseClientMessage(payload).ok) expect(answer.some((m) => m.type === "error")).toBe(true);
        expect(client.invalid).toEqual([]);
      }),
      { numRuns: 1500 },
    );
  });

  it("survives random and mutated binary frames", async () => {
    await fc.assert(
      fc.asyncProperty(binary, async (payload) => {
        await exchange(payload);
        expect(client.invalid).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });

  it("closes cleanly on anything but a valid hello from a new socket", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(text, binary), async (payload) => {
        const c = await Client.connect(server, { hello: false });
        c.ws.send(payload);
        expect((await c.closed).code).toBe(1008);
        expect(c.invalid).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it("still runs a normal job afterwards", async () => {
    const c = await Client.connect(server);
    c.primitives("after", tiny, { count: 4 });
    expect(await c.outcome("after")).toMatchObject({ type: "result", kind: "primitives" });
    expect(server.stats().clients).toBeGreaterThan(0);
  });
});
