/// <reference types="@figma/plugin-typings" />
/// <reference lib="dom" />
// A whole run in Node: the UI's Runner and bridge talking by (cloned, asynchronous) postMessage to
// the real plugin controller on the fake Figma, with a stand-in companion that returns a result.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { FrameHeader } from "../../shared/frames";
import type { UiMessage } from "../../shared/plugin-messages";
import { defaultSettings } from "../../shared/plugin-messages";
import type { ClientMessage, ServerMessage } from "../../shared/protocol";
import type { JobChannel } from "../../ui/job";
import { batchStopped } from "../../ui/messages";
import type { RunState } from "../../ui/runner";
import { addSource, type PluginHarness, solidPng, startHarness } from "../plugin/harness";
import { tri } from "./shapes";

type UiListener = (ev: { data: unknown }) => void;
let h: PluginHarness;
let uiListeners: UiListener[];
/** What reaches the plugin; a test may swallow messages to play a plugin that never answers. */
let toPlugin: (msg: UiMessage) => void;

beforeEach(async () => {
  vi.resetModules();
  h = await startHarness();
  uiListeners = [];
  toPlugin = (msg) => h.send(msg);
  const g = globalThis as Record<string, unknown>;
  g.window = { addEventListener: (_type: string, fn: UiListener) => uiListeners.push(fn) };
  g.parent = {
    postMessage: (data: { pluginMessage: UiMessage }) => {
      const msg = structuredClone(data.pluginMessage);
      setTimeout(() => toPlugin(msg), 0);
    },
  };
  // the plugin's posts reach the UI the way Figma delivers them: cloned, later, as { pluginMessage }
  (h.figma.ui as { postMessage: (m: unknown) => void }).postMessage = (m) => {
    const data = { pluginMessage: structuredClone(m) };
    setTimeout(() => {
      for (const fn of uiListeners) fn({ data });
    }, 0);
  };
});
afterEach(() => {
  vi.useRealTimers();
  const g = globalThis as Record<string, unknown>;
  delete g.window;
  delete g.parent;
});

/** A companion that answers every style job with a styled PNG. */
function styleCompanion(png: Uint8Array) {
  let runner: { onMessage(m: ServerMessage): void; onFrame(h: FrameHeader, p: Uint8Array): void };
  const channel: JobChannel = {
    send(msg: ClientMessage) {
      if (msg.type !== "style") return;
      setTimeout(() => {
        runner.onMessage({ type: "result", kind: "style", id: msg.id, width: 40, height: 20, device: "cpu", ms: 1 });
        runner.onFrame({ id: msg.id, part: "result" }, png);
      }, 0);
    },
    sendFrame() {},
  };
  return { channel, attach: (r: typeof runner) => (runner = r) };
}

async function startRunner() {
  const { Runner } = await import("../../ui/runner");
  const states: RunState[] = [];
  const companion = styleCompanion(await solidPng(40, 20));
  const runner = new Runner(
    () => companion.channel,
    (s) => s && states.push(s),
  );
  companion.attach(runner);
  const { source } = addSource(h.figma);
  h.figma.currentPage.selection = [source];
  const input = (names: string[]) => ({
    settings: { ...defaultSettings(), mode: "style" as const },
    styleFiles: names.map((name) => ({ name, bytes: new Uint8Array([1]) })),
    styleLayers: [],
    mask: null,
  });
  return { runner, states, input, last: () => states[states.length - 1] };
}

describe("a style run, UI and plugin together", () => {
  it("three ordinary but long style file names still give a result, named within the plugin's limit", async () => {
    const { runner, input, last } = await startRunner();
    const names = [
      "Van Gogh — The Starry Night, 1889, oil on canvas, MoMA New York (high resolution scan, final).png",
      "Hokusai — The Great Wave off Kanagawa, c. 1831, woodblock print, Metropolitan Museum.jpeg",
      "Kandinsky — Composition VII, 1913, oil on canvas, Tretyakov Gallery Moscow, colour corrected.webp",
    ];
    await runner.run(input(names));
    expect(last()).toMatchObject({ phase: "done" });
    const name = last().inserted!.name;
    expect(name).toMatch(/^Photo — styled as Van Gogh/);
    expect(name.length).toBeLessThanOrEqual("Photo — styled as ".length + 200);
    expect(runner.busy).toBe(false);
  });

  it("a request the plugin refuses ends the run with the plugin's error, and the next run works", async () => {
    const { runner, input, last } = await startRunner();
    // a UI out of step with the plugin: insert-style breaks the plugin's schema
    toPlugin = (msg) =>
      h.send(msg.type === "insert-style" ? { ...msg, styleName: "x".repeat(500), png: "not bytes" } : msg);
    await runner.run(input(["Starry.png"]));
    expect(last()).toMatchObject({ phase: "failed" });
    expect(last().message).toMatch(/malformed message/);
    expect(runner.busy).toBe(false);

    toPlugin = (msg) => h.send(msg);
    await runner.run(input(["Starry.png"]));
    expect(last()).toMatchObject({ phase: "done" });
  });

  it("a plugin that never answers ends the run after the timeout with a plain message", async () => {
    const { runner, input, last } = await startRunner();
    toPlugin = (msg) => {
      if (msg.type !== "insert-style") h.send(msg); // the insert gets lost
    };
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"], shouldAdvanceTime: true });
    const done = runner.run(input(["Starry.png"]));
    await vi.waitFor(() => expect(last().phase).toBe("inserting"));
    await vi.advanceTimersByTimeAsync(61_000);
    await done;
    expect(last()).toMatchObject({ phase: "failed" });
    expect(last().message).toMatch(/Figma did not answer/);
    expect(runner.busy).toBe(false);
  });
});

describe("a primitives run inside the plugin (no companion)", () => {
  it("its errors are worded for Figma, not for a companion that is not there", async () => {
    const { Runner } = await import("../../ui/runner");
    const states: RunState[] = [];
    let runner: InstanceType<typeof Runner>;
    // the in-plugin engine answers with the companion's protocol and codes, as LocalPrimitives does
    const local: JobChannel = {
      inPlugin: true,
      send(msg: ClientMessage) {
        if (msg.type !== "primitives") return;
        const id = msg.id;
        setTimeout(() => runner.onMessage({ type: "error", id, code: "internal", message: "out of memory" }), 0);
      },
      sendFrame() {},
    };
    runner = new Runner(
      () => local,
      (s) => s && states.push(s),
    );
    const { source } = addSource(h.figma);
    h.figma.currentPage.selection = [source];
    await runner.run({ settings: defaultSettings(), styleFiles: [], styleLayers: [], mask: null });
    const last = states[states.length - 1];
    expect(last.phase).toBe("failed");
    expect(last.message).toMatch(/inside Figma.*out of memory/);
    expect(last.message).not.toMatch(/The companion/);
  });
});

describe("a batch: several layers, one result each", () => {
  /** A companion that answers style job n (from 0) as `answer` says: a result, an error, or nothing yet. */
  async function batchRun(
    answer: (n: number) => "result" | "hold" | { code: "too-large" | "busy"; message: string },
    notes: (n: number) => string[] = () => [],
  ) {
    const { Runner } = await import("../../ui/runner");
    const png = await solidPng(40, 20);
    const states: RunState[] = [];
    const jobs: { id: string; frames: string[] }[] = [];
    let runner: InstanceType<typeof Runner>;
    const channel: JobChannel = {
      send(msg: ClientMessage) {
        if (msg.type === "cancel") setTimeout(() => runner.onMessage({ type: "cancelled", id: msg.id }), 0);
        if (msg.type !== "style") return;
        const n = jobs.push({ id: msg.id, frames: [] }) - 1;
        const a = answer(n);
        if (a === "hold") return;
        setTimeout(() => {
          for (const message of notes(n)) runner.onMessage({ type: "note", id: msg.id, message });
          if (a !== "result") return runner.onMessage({ type: "error", id: msg.id, ...a });
          runner.onMessage({ type: "result", kind: "style", id: msg.id, width: 40, height: 20, device: "cpu", ms: 1 });
          runner.onFrame({ id: msg.id, part: "result" }, png);
        }, 0);
      },
      sendFrame(header) {
        jobs.find((j) => j.id === header.id)?.frames.push(header.part);
      },
    };
    runner = new Runner(
      () => channel,
      (s) => s && states.push(s),
    );
    const { board, source } = addSource(h.figma, "Avatar 1", 100, 100);
    const layers = [source];
    for (const name of ["Avatar 2", "Avatar 3"]) {
      const r = h.figma.createRectangle();
      Object.assign(r, { name, x: 20 + 200 * layers.length, y: 30 });
      r.resize(100, 100);
      board.appendChild(r);
      layers.push(r);
    }
    h.figma.journal.length = 0;
    const info = layers.map((l) => ({ id: l.id, name: l.name, type: l.type, width: 100, height: 100 }));
    const input = {
      settings: { ...defaultSettings(), mode: "style" as const },
      styleFiles: [{ name: "Starry.png", bytes: new Uint8Array([1]) }],
      styleLayers: [],
      mask: null,
      layers: info,
    };
    const commits = () => h.figma.journal.filter((e) => e.op === "commit").length;
    const results = () => board.children.filter((c) => c.name.includes("styled as")).map((c) => c.name);
    return { runner, states, jobs, layers, input, commits, results, last: () => states[states.length - 1] };
  }

  it("runs each layer in turn with the same settings and style, each result its own undo step", async () => {
    const b = await batchRun(() => "result");
    await b.runner.run(b.input);
    expect(b.results()).toEqual([
      "Avatar 1 — styled as Starry",
      "Avatar 2 — styled as Starry",
      "Avatar 3 — styled as Starry",
    ]);
    expect(b.commits()).toBe(3);
    // the style image travels with every job
    expect(b.jobs.map((j) => j.frames)).toEqual(Array(3).fill(["content", "style:0"]));
    // progress names the layer: 1 of 3, 2 of 3, 3 of 3
    const seen = [
      ...new Set(
        b.states
          .filter((s) => s.phase === "running")
          .map((s) => `${s.batch?.index} of ${s.batch?.total} ${s.batch?.layer}`),
      ),
    ];
    expect(seen).toEqual(["1 of 3 Avatar 1", "2 of 3 Avatar 2", "3 of 3 Avatar 3"]);
    expect(b.last()).toMatchObject({ phase: "done", batch: { done: 3, total: 3, failures: [] } });
    expect(batchStopped(b.last().batch!)).toBe(false);
    expect(b.runner.busy).toBe(false);
  });

  it("every layer's notes are still there at the end: those of one layer named, those of all said once", async () => {
    const b = await batchRun(
      () => "result",
      (n) => ["Random weights: for trying the plugin out", ...(n === 1 ? ["Ran on the CPU: the GPU was lost"] : [])],
    );
    await b.runner.run(b.input);
    expect(b.last()).toMatchObject({ phase: "done", batch: { done: 3 } });
    expect(b.last().notes).toEqual([
      "Random weights: for trying the plugin out",
      "Avatar 2: Ran on the CPU: the GPU was lost",
    ]);
  });

  it("a layer that fails is named and the batch goes on; Retry is for the failed ones", async () => {
    const b = await batchRun((n) => (n === 1 ? { code: "too-large", message: "8000×8000" } : "result"));
    await b.runner.run(b.input);
    expect(b.results()).toEqual(["Avatar 1 — styled as Starry", "Avatar 3 — styled as Starry"]);
    expect(b.commits()).toBe(2);
    const batch = b.last().batch!;
    expect(b.last().phase).toBe("done");
    expect(batch).toMatchObject({ done: 2, total: 3 });
    expect(batchStopped(batch)).toBe(false);
    expect(batch.failures).toEqual([{ layer: "Avatar 2", message: expect.stringMatching(/too large.*8000×8000/) }]);
    const { batchSummaryText } = await import("../../ui/messages");
    expect(batchSummaryText(batch, false)).toMatch(/^2 of 3 done; Avatar 2: The image is too large/);
    expect(b.runner.last?.layers?.map((l) => l.name)).toEqual(["Avatar 2"]);
  });

  it("a layer deleted mid-batch is named; a busy companion stops the rest instead of failing each", async () => {
    const b = await batchRun((n) =>
      n === 1 ? { code: "busy", message: "The companion is busy (3 jobs waiting); try again in a moment." } : "result",
    );
    b.layers[0].remove();
    await b.runner.run(b.input);
    const batch = b.last().batch!;
    expect(batch.failures.map((f) => f.layer)).toEqual(["Avatar 1", "Avatar 3"]);
    expect(batch.failures[0].message).toMatch(/source layer is gone/);
    expect(b.jobs).toHaveLength(2); // Avatar 1 never reached the companion
    expect(b.last().phase).toBe("done");

    const c = await batchRun((n) =>
      n === 0 ? { code: "busy", message: "The companion is busy (3 jobs waiting); try again in a moment." } : "result",
    );
    await c.runner.run(c.input);
    expect(c.jobs).toHaveLength(1);
    expect(c.last()).toMatchObject({ phase: "failed", batch: { done: 0 } });
    expect(batchStopped(c.last().batch!)).toBe(true);
    const { batchSummaryText } = await import("../../ui/messages");
    expect(batchSummaryText(c.last().batch!, false)).toMatch(
      /^0 of 3 done; Avatar 1: .*busy.*The rest were not started\.$/,
    );
  });

  it("Cancel ends the current job and starts no other; finished results stay", async () => {
    const b = await batchRun((n) => (n === 1 ? "hold" : "result"));
    const done = b.runner.run(b.input);
    await vi.waitFor(() => expect(b.jobs).toHaveLength(2));
    expect(b.commits()).toBe(1);
    b.runner.cancel();
    expect(b.last().phase).toBe("cancelling");
    await done;
    expect(b.jobs).toHaveLength(2); // Avatar 3 never started
    expect(b.results()).toEqual(["Avatar 1 — styled as Starry"]);
    expect(b.commits()).toBe(1);
    expect(b.last()).toMatchObject({ phase: "cancelled", batch: { done: 1, total: 3 } });
    expect(batchStopped(b.last().batch!)).toBe(true);
    const { batchSummaryText } = await import("../../ui/messages");
    expect(batchSummaryText(b.last().batch!, true)).toBe("Cancelled — 1 of 3 done. The rest were not started.");
    expect(b.runner.busy).toBe(false);
  });
});

describe("Stylize as shapes: the style job, then a primitives job on the painting", () => {
  const bg = { r: 10, g: 20, b: 200, a: 255 };

  /** A companion that paints (a solid PNG) and then streams two shapes; `holdShapes` never finishes them. */
  async function shapesRun(opts: { holdPainting?: boolean; holdShapes?: boolean } = {}) {
    const { Runner } = await import("../../ui/runner");
    const painting = await solidPng(40, 20);
    const states: RunState[] = [];
    const sent: ClientMessage[] = [];
    const frames: { header: FrameHeader; payload: Uint8Array }[] = [];
    let runner: InstanceType<typeof Runner>;
    const answer = (m: ServerMessage) => setTimeout(() => runner.onMessage(m), 0);
    const channel: JobChannel = {
      send(msg: ClientMessage) {
        sent.push(msg);
        if (msg.type === "cancel") answer({ type: "cancelled", id: msg.id });
        if (msg.type === "style" && !opts.holdPainting) {
          answer({ type: "progress", id: msg.id, done: 40, total: 100, value: 1 });
          answer({ type: "result", kind: "style", id: msg.id, width: 40, height: 20, device: "cpu", ms: 1 });
          setTimeout(() => runner.onFrame({ id: msg.id, part: "result" }, painting), 0);
        }
        if (msg.type === "primitives") {
          const id = msg.id;
          answer({ type: "progress", id, done: 1, total: 2, value: 0.2 });
          const shapes = [tri(5), tri(9)];
          answer({ type: "shapes", id, width: 40, height: 20, background: bg, from: 0, shapes, score: 0.1 });
          if (opts.holdShapes) return;
          answer({
            type: "result",
            kind: "primitives",
            id,
            result: { width: 40, height: 20, background: bg, shapes },
            ms: 1,
          });
        }
      },
      sendFrame(header, payload) {
        frames.push({ header, payload });
      },
    };
    runner = new Runner(
      () => channel,
      (s) => s && states.push(s),
    );
    const { board, source } = addSource(h.figma);
    h.figma.currentPage.selection = [source];
    const settings = { ...defaultSettings(), mode: "style" as const };
    settings.primitives = { ...settings.primitives, count: 2, shape: "triangle" };
    const input = {
      settings,
      styleFiles: [{ name: "Starry Night.jpg", bytes: new Uint8Array([1]) }],
      styleLayers: [],
      mask: null,
      asShapes: true,
    };
    const commits = () => h.figma.journal.filter((e) => e.op === "commit").length;
    const results = () => board.children.filter((c) => c.name.includes("shapes in the style")) as FrameNode[];
    return { runner, states, sent, frames, painting, input, commits, results, last: () => states[states.length - 1] };
  }

  it("paints, then finds shapes on the painting, and inserts one frame of vectors in one undo step", async () => {
    const r = await shapesRun();
    await r.runner.run(r.input);
    expect(r.last()).toMatchObject({
      phase: "done",
      inserted: { name: "Photo — shapes in the style of Starry Night" },
    });
    // the primitives job got the painting as its image, with the primitives settings
    const prim = r.sent.find((m) => m.type === "primitives");
    expect(prim).toMatchObject({ options: { count: 2, shape: "triangle", background: "none" } });
    const image = r.frames.find((f) => f.header.id === prim?.id && f.header.part === "image");
    expect(image?.payload).toEqual(r.painting);
    // two stages in order, each with its own progress; the painting shows until the first shapes
    const running = r.states.filter((s) => s.phase === "running");
    expect([...new Set(running.map((s) => s.stage))]).toEqual(["painting", "shapes"]);
    expect(running.find((s) => s.stage === "painting" && s.progress)?.progress).toMatchObject({ done: 40, total: 100 });
    const shapesStart = running.find((s) => s.stage === "shapes")!;
    expect(shapesStart.previewUrl).toMatch(/^data:image\/png;base64,/);
    expect(shapesStart.progress).toBeUndefined();
    expect(running.find((s) => s.stage === "shapes" && s.progress)?.progress).toMatchObject({ done: 1, total: 2 });
    // nothing was inserted until the shapes were complete: one frame, one commit, native vectors
    expect(r.commits()).toBe(1);
    const [frame] = r.results();
    expect(r.results()).toHaveLength(1);
    expect(frame.children.map((c) => c.type)).toEqual(["RECTANGLE", "VECTOR", "VECTOR"]);
  });

  it("Cancel while the shapes come offers those found so far, inserted under the style's name", async () => {
    const r = await shapesRun({ holdShapes: true });
    const done = r.runner.run(r.input);
    await vi.waitFor(() => expect(r.last().canvas?.shapes).toHaveLength(2));
    r.runner.cancel();
    await done;
    expect(r.last()).toMatchObject({ phase: "cancelled", stage: "shapes" });
    expect(r.last().partial?.shapes).toHaveLength(2);
    expect(r.commits()).toBe(0);
    await r.runner.insertPartial();
    expect(r.last()).toMatchObject({
      phase: "done",
      inserted: { name: "Photo — shapes in the style of Starry Night — partial", count: 2 },
    });
    expect(r.commits()).toBe(1);
  });

  it("Cancel while painting stops there: no shapes job, nothing offered, nothing inserted", async () => {
    const r = await shapesRun({ holdPainting: true });
    const done = r.runner.run(r.input);
    await vi.waitFor(() => expect(r.sent.some((m) => m.type === "style")).toBe(true));
    r.runner.cancel();
    await done;
    expect(r.last()).toMatchObject({ phase: "cancelled", stage: "painting", partial: null });
    expect(r.sent.map((m) => m.type)).toEqual(["style", "cancel"]);
    expect(r.commits()).toBe(0);
  });
});

describe("batch wording", () => {
  it("names at most three failures, counts the rest, and says when the rest never started", async () => {
    const { batchSummaryText } = await import("../../ui/messages");
    const failures = ["A", "B", "C", "D", "E"].map((layer) => ({ layer, message: "too large." }));
    const b = { index: 8, total: 8, layer: "H", done: 3, failures };
    expect(batchSummaryText(b, false)).toBe("3 of 8 done; A: too large; B: too large; C: too large; 2 more failed.");
    const all = { ...b, done: 8, failures: [] };
    expect(batchSummaryText(all, false)).toBe("Done: 8 results, each beside its layer.");
    expect(batchSummaryText({ ...all, done: 2 }, true)).toBe("Cancelled — 2 of 8 done. The rest were not started.");
  });
});
