// A job's lifecycle in the UI: what it sends, how streamed messages turn into one outcome.
import { describe, expect, it } from "vitest";
import type { FrameHeader } from "../../shared/frames";
import type { ClientMessage, ServerMessage } from "../../shared/protocol";
import type { Shape } from "../../shared/shapes";
import { estimateEta, Job, type JobChannel, type JobRequest } from "../../ui/job";
import { connectionText, jobErrorText, START_HINT, styleDeviceText, WEIGHTS_HINT } from "../../ui/messages";
import { planScales } from "../../shared/style/plan";
import { applyPreset, PRIMITIVES_PRESETS, workSizeOf } from "../../ui/presets";
import { defaultSettings } from "../../shared/plugin-messages";
import { tri } from "./shapes";

function channel() {
  const sent: ClientMessage[] = [];
  const frames: FrameHeader[] = [];
  const ch: JobChannel = { send: (m) => sent.push(m), sendFrame: (h) => frames.push(h) };
  return { ch, sent, frames };
}
const bytes = new Uint8Array([1]);
const bg = { r: 1, g: 2, b: 3, a: 255 };
/** A style job whose notes for the designer are collected. */
function styleJobWithNotes() {
  const notes: string[] = [];
  const job = new Job(
    channel().ch,
    { kind: "style", options: {}, content: bytes, styles: [bytes] },
    { onNote: (n) => notes.push(n) },
  );
  return { job, notes };
}

describe("job", () => {
  it("sends a primitives job with defaults filled, then its image", () => {
    const { ch, sent, frames } = channel();
    const job = new Job(ch, { kind: "primitives", options: { count: 50 }, image: bytes });
    job.start();
    expect(sent[0]).toMatchObject({ type: "primitives", id: job.id, options: { count: 50, shape: "triangle" } });
    expect(frames).toEqual([{ id: job.id, part: "image" }]);
  });

  it("rejects options out of range before sending anything", () => {
    const { ch, sent } = channel();
    const job = new Job(ch, { kind: "primitives", options: { count: 999_999 }, image: bytes });
    expect(() => job.start()).toThrow();
    expect(sent).toEqual([]);
  });

  it("sends a style job's content, styles and mask parts", () => {
    const { ch, sent, frames } = channel();
    const job = new Job(ch, {
      kind: "style",
      options: { iters: 3 },
      content: bytes,
      styles: [bytes, bytes],
      mask: bytes,
    });
    job.start();
    expect(sent[0]).toMatchObject({ type: "style", styles: 2, masks: [0], options: { iters: 3 } });
    expect(frames.map((f) => f.part)).toEqual(["content", "style:0", "style:1", "mask:0"]);
  });

  it("refuses, before sending anything, an image larger than the companion accepts, naming it", () => {
    const { ch, sent, frames } = channel();
    const limited: JobChannel = { ...ch, maxMessageBytes: 2 ** 20 };
    const big = new Uint8Array(2 ** 20);
    const request: JobRequest = { kind: "style", options: {}, content: bytes, styles: [bytes, big] };
    expect(() => new Job(limited, request).start()).toThrow(
      /^The style image 2 is too large to send to the companion \(1\.0 MB; it accepts up to 1\.0 MB\)\. Use a smaller picture/,
    );
    const job = new Job(limited, { kind: "primitives", options: {}, image: big });
    expect(() => job.start()).toThrow(/^The layer's image is too large/);
    expect([sent, frames]).toEqual([[], []]);
    // just under the limit goes through
    new Job(limited, {
      kind: "style",
      options: {},
      content: bytes,
      styles: [bytes, big.subarray(0, 2 ** 20 - 512)],
    }).start();
    expect(frames.map((f) => f.part)).toEqual(["content", "style:0", "style:1"]);
  });

  it("collects streamed shapes and resolves with the result; ignores other jobs", async () => {
    const { ch } = channel();
    const seen: number[] = [];
    const job = new Job(
      ch,
      { kind: "primitives", options: {}, image: bytes },
      { onShapes: (c) => seen.push(c.shapes.length) },
    );
    const batch = (from: number, shapes: Shape[]): ServerMessage => ({
      type: "shapes",
      id: job.id,
      width: 10,
      height: 8,
      background: bg,
      from,
      shapes,
      score: 0.1,
    });
    job.onMessage(batch(0, [tri(1), tri(2)]));
    job.onMessage({ ...batch(2, [tri(3)]), id: "other" } as ServerMessage);
    job.onMessage(batch(2, [tri(3)]));
    expect(seen).toEqual([2, 3]);
    const result = { width: 10, height: 8, background: bg, shapes: [tri(1), tri(2), tri(3)] };
    job.onMessage({ type: "result", kind: "primitives", id: job.id, result, ms: 5 });
    expect(await job.outcome).toEqual({ kind: "primitives", result, ms: 5 });
  });

  it("a cancel keeps the shapes found so far; an unrequested cancel (shutdown) is a failure", async () => {
    const a = new Job(channel().ch, { kind: "primitives", options: {}, image: bytes });
    a.onMessage({ type: "shapes", id: a.id, width: 4, height: 4, background: bg, from: 0, shapes: [tri(1)], score: 1 });
    a.cancel();
    a.onMessage({ type: "cancelled", id: a.id });
    expect(await a.outcome).toMatchObject({ kind: "cancelled", partial: { width: 4, shapes: [tri(1)] } });

    const b = new Job(channel().ch, { kind: "primitives", options: {}, image: bytes });
    b.onMessage({ type: "cancelled", id: b.id });
    expect(await b.outcome).toMatchObject({ kind: "failed", code: "disconnected", partial: null });
  });

  it("a style result waits for its PNG frame; previews pass through", async () => {
    const previews: number[] = [];
    const job = new Job(
      channel().ch,
      { kind: "style", options: {}, content: bytes, styles: [bytes] },
      {
        onPreview: (_png, w) => previews.push(w),
      },
    );
    job.onMessage({ type: "preview", id: job.id, width: 32, height: 16, done: 10 });
    job.onFrame({ id: job.id, part: "preview" }, bytes);
    job.onMessage({ type: "result", kind: "style", id: job.id, width: 32, height: 16, device: "cpu", ms: 9 });
    expect(job.done).toBe(false);
    job.onFrame({ id: job.id, part: "result" }, new Uint8Array([7, 7]));
    expect(previews).toEqual([32]);
    expect(await job.outcome).toMatchObject({ kind: "style", width: 32, device: "cpu" });
  });

  it("a GPU that fell back is said once: from the note, or from the result when the note was missed", async () => {
    const fallback = "WebGPU failed: the GPU stopped working: device lost";
    const run = async (withNote: boolean) => {
      const { job, notes } = styleJobWithNotes();
      if (withNote) job.onMessage({ type: "note", id: job.id, message: `ran on the CPU: ${fallback}` });
      job.onMessage({ type: "result", kind: "style", id: job.id, width: 8, height: 8, device: "cpu", fallback, ms: 9 });
      job.onFrame({ id: job.id, part: "result" }, bytes);
      await job.outcome;
      return notes;
    };
    expect(await run(true)).toEqual([`ran on the CPU: ${fallback}`]);
    expect(await run(false)).toEqual([`ran on the CPU: ${fallback}`]);
  });

  it("the status line says where style transfer will run: never a software adapter", () => {
    const cpu = { name: "cpu" as const, available: true };
    const off = (name: "webgpu" | "cuda") => ({ name, available: false, reason: "no" });
    const gpu = { name: "webgpu" as const, available: true, adapter: "nvidia (hopper) NVIDIA H200" };
    expect(styleDeviceText([cpu, gpu, off("cuda")])).toBe("the GPU (nvidia (hopper) NVIDIA H200)");
    expect(styleDeviceText([cpu, { ...gpu, software: true }, off("cuda")])).toBe("the CPU");
    expect(styleDeviceText([cpu, gpu, { name: "cuda", available: true }])).toBe("the GPU (CUDA)");
    expect(styleDeviceText([cpu, off("webgpu"), off("cuda")])).toBe("the CPU");
  });

  it("passes the companion's notes about its own job to the designer", () => {
    const { job, notes } = styleJobWithNotes();
    job.onMessage({ type: "note", id: "someone-else", message: "not ours" });
    job.onMessage({ type: "note", id: job.id, message: "random weights: output is not artistic" });
    expect(notes).toEqual(["random weights: output is not artistic"]);
    expect(job.done).toBe(false);
  });

  it("a dropped connection fails the job once", async () => {
    const job = new Job(channel().ch, { kind: "primitives", options: {}, image: bytes });
    job.disconnected();
    job.onMessage({ type: "error", id: job.id, code: "internal", message: "late" });
    expect(await job.outcome).toMatchObject({ kind: "failed", code: "disconnected" });
  });

  it("estimates the time left from the pace so far", () => {
    expect(estimateEta(1000, 10, 30)).toBe(2000);
    expect(estimateEta(1000, 0, 30)).toBeUndefined();
    expect(estimateEta(1000, 30, 30)).toBe(0);
  });
});

describe("plain-language messages and presets", () => {
  it("says how to start the companion, install weights, and what a refused token means", () => {
    const url = "ws://localhost:47615";
    const unreachable = connectionText({ state: "reconnecting", url, attempt: 1, delayMs: 2000, everConnected: false });
    // Not running and blocked by Figma look alike here: both causes are named, with the address.
    expect(unreachable.text).toContain(`Can't reach the companion at ${url} — ${START_HINT}`);
    expect(unreachable.text).toMatch(/Figma's network policy may be blocking this address/);
    expect(connectionText({ state: "reconnecting", url, attempt: 1, delayMs: 2000, everConnected: true }).text).toMatch(
      /reconnecting in 2 s/,
    );
    expect(connectionText({ state: "unauthorized", message: "x" }).text).toMatch(/Pairing token not accepted/);
    expect(connectionText({ state: "unauthorized", message: "x" }, false).text).toMatch(/Paste the pairing token/);
    expect(jobErrorText("weights-missing", "whatever")).toBe(WEIGHTS_HINT);
  });

  it("tells a policy-blocked address from an absent companion, and says what to do", () => {
    const custom = connectionText({ state: "blocked", url: "ws://127.0.0.1:47615" });
    expect(custom).toMatchObject({ tone: "bad" });
    expect(custom.text).toMatch(
      /^Figma's network policy blocked ws:\/\/127\.0\.0\.1:47615: the plugin may only connect to ws:\/\/localhost:47615/,
    );
    expect(custom.text).toMatch(/Press “Use the default address”/);
    expect(custom.text).not.toMatch(/npm start/);
    const dflt = connectionText({ state: "blocked", url: "ws://localhost:47615" });
    expect(dflt.text).toMatch(/Re-import the plugin from its manifest\.json/);
    expect(WEIGHTS_HINT).toContain("npx stylize weights fetch");
    expect(START_HINT).toContain("npm start");
    expect(jobErrorText("disconnected", "")).toMatch(/not changed/);
  });

  it("presets set the options of the current mode only; standard is the companion's default", () => {
    const s = defaultSettings();
    expect(applyPreset(s, "style", "standard").style).toEqual(s.style);
    expect(applyPreset(s, "primitives", "standard").primitives).toEqual(s.primitives);
    expect(applyPreset(s, "style", "draft").style.iters).toBeLessThan(s.style.iters);
    const high = applyPreset(s, "primitives", "high");
    expect(high.primitives).toMatchObject(PRIMITIVES_PRESETS.high);
    expect(high.style).toEqual(s.style);
    expect(workSizeOf({ ...high, mode: "primitives" })).toBe(PRIMITIVES_PRESETS.high.workSize);
    expect(applyPreset(high, "primitives", "custom").primitives).toEqual(high.primitives);
  });

  it("style presets settle the picture at the same coarse scale and differ in size and cost", () => {
    const s = defaultSettings();
    const plans = (["draft", "standard", "high"] as const).map((p) => {
      const o = applyPreset(s, "style", p).style;
      return planScales(1024, 768, o.size, o.scales, o.iters, o.detailIters);
    });
    const standardCoarse = plans[1].scales[0];
    const cost = plans.map((p) => p.scales.reduce((a, sc) => a + sc.iters * sc.width * sc.height, 0));
    for (const p of plans) {
      expect([p.scales[0].width, p.scales[0].height]).toEqual([standardCoarse.width, standardCoarse.height]);
      expect(Math.abs(p.scales[0].iters - standardCoarse.iters)).toBeLessThanOrEqual(0.3 * standardCoarse.iters);
    }
    expect(plans.map((p) => p.width)).toEqual([256, s.style.size, 1024]);
    expect(cost[0]).toBeLessThan(cost[1]);
    expect(cost[1]).toBeLessThan(cost[2]);
    // High's extra full-size iterations do not stick when going back to Standard.
    const back = applyPreset(applyPreset(s, "style", "high"), "style", "standard");
    expect(back.style.detailIters).toBe(s.style.detailIters);
  });
});
