import { describe, expect, it } from "vitest";
import { decodeFrame, encodeFrame } from "../shared/frames";
import { DEFAULT_PORT, parseClientMessage, parseServerMessage } from "../shared/protocol";

describe("protocol schema", () => {
  it("fills job option defaults so the CLI and plugin agree", () => {
    const r = parseClientMessage(JSON.stringify({ type: "primitives", id: "j1", options: {} }));
    expect(r.ok).toBe(true);
    if (r.ok && r.value.type === "primitives") {
      expect(r.value.options).toMatchObject({ count: 100, shape: "triangle", alpha: 128, workSize: 256 });
    }
  });

  it("rejects bad JSON, unknown types and out-of-range options with a readable reason", () => {
    expect(parseClientMessage("{not json")).toEqual({ ok: false, error: "message is not valid JSON" });
    const unknown = parseClientMessage(JSON.stringify({ type: "rm -rf" }));
    expect(unknown.ok).toBe(false);
    const bad = parseClientMessage(JSON.stringify({ type: "style", id: "a", styles: 1, options: { iters: -3 } }));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/options\.iters/);
    const badId = parseClientMessage(JSON.stringify({ type: "cancel", id: "../../etc" }));
    expect(badId.ok).toBe(false);
  });

  it("parses server results including a primitives shape list", () => {
    const msg = {
      type: "result",
      kind: "primitives",
      id: "j1",
      ms: 12,
      result: {
        width: 4,
        height: 4,
        background: { r: 1, g: 2, b: 3, a: 255 },
        shapes: [{ type: "circle", cx: 1, cy: 1, r: 1, color: { r: 0, g: 0, b: 0, a: 128 } }],
      },
    };
    expect(parseServerMessage(JSON.stringify(msg)).ok).toBe(true);
    const broken = { ...msg, result: { ...msg.result, shapes: [{ type: "circle", cx: 1 }] } };
    expect(parseServerMessage(JSON.stringify(broken)).ok).toBe(false);
  });

  it("uses a fixed, documented default port", () => {
    expect(DEFAULT_PORT).toBe(47615);
  });
});

describe("binary frames", () => {
  it("round-trips header and payload", () => {
    const payload = new Uint8Array([137, 80, 78, 71, 0, 255]);
    const d = decodeFrame(encodeFrame({ id: "job-1", part: "style:1" }, payload));
    expect(d.ok).toBe(true);
    if (d.ok) {
      expect(d.header).toEqual({ id: "job-1", part: "style:1" });
      expect([...d.payload]).toEqual([...payload]);
    }
  });

  it("refuses truncated, oversized or unknown headers without throwing", () => {
    expect(decodeFrame(new Uint8Array([0, 0])).ok).toBe(false);
    expect(decodeFrame(new Uint8Array([0, 0, 0, 200, 1, 2])).ok).toBe(false);
    const badPart = encodeFrame({ id: "x", part: "content" }, new Uint8Array());
    badPart[4 + 15] = "Z".charCodeAt(0); // corrupt inside the JSON header
    expect(decodeFrame(badPart).ok).toBe(false);
  });
});
