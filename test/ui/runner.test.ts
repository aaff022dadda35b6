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
import type { RunState } from "../../ui/runner";
import { addSource, type PluginHarness, solidPng, startHarness } from "../plugin/harness";

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
