/// <reference types="@figma/plugin-typings" />
// Starts the real plugin controller against the fake Figma, with the UI side replaced by an
// outbox (what the plugin posted) and `send` (what the UI would post).
import sharp from "sharp";
import type { PluginMessage, PluginMessageOf, UiMessage } from "../../shared/plugin-messages";
import { createFakeFigma, type FakeFigma } from "./fake-figma";

/** A real PNG of the requested size (solid colour), like Figma's export would give. */
export const solidPng = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 4, background: { r: 200, g: 80, b: 40, alpha: 1 } } })
    .png()
    .toBuffer()
    .then((b) => new Uint8Array(b));

/** Messages are taken from the outbox as they are awaited, oldest first. */
export type PluginHarness = {
  figma: FakeFigma;
  outbox: PluginMessage[];
  send(msg: UiMessage | Record<string, unknown>): void;
  next<T extends PluginMessage["type"]>(
    type: T,
    pred?: (m: PluginMessageOf<T>) => boolean,
  ): Promise<PluginMessageOf<T>>;
};

export async function startHarness(setup?: (figma: FakeFigma) => void): Promise<PluginHarness> {
  const figma = createFakeFigma((_node, w, h) => solidPng(w, h));
  const outbox: PluginMessage[] = [];
  const g = globalThis as Record<string, unknown>;
  g.figma = figma;
  g.__html__ = "<html></html>";
  (figma as unknown as { ui: unknown }).ui = {
    postMessage: (m: PluginMessage) => outbox.push(m),
    onmessage: undefined,
  };
  setup?.(figma);
  const { startPlugin } = await import("../../plugin/controller");
  startPlugin();
  const send = (msg: unknown) => (figma.ui.onmessage as (m: unknown) => void)(msg);
  const next = async <T extends PluginMessage["type"]>(type: T, pred?: (m: PluginMessageOf<T>) => boolean) => {
    for (let i = 0; i < 2000; i++) {
      const hit = outbox.find((m) => m.type === type && (!pred || pred(m as PluginMessageOf<T>)));
      if (hit) {
        outbox.splice(outbox.indexOf(hit), 1);
        return hit as PluginMessageOf<T>;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`no ${type} message; outbox: ${JSON.stringify(outbox.map((m) => m.type))}`);
  };
  return { figma, outbox, send, next };
}

/** A frame on the page with a child rectangle — the typical "selected layer" — at known positions. */
export function addSource(figma: FakeFigma, name = "Photo", width = 400, height = 200) {
  const board = figma.createFrame();
  board.name = "Board";
  board.resize(1000, 800);
  board.x = 100;
  board.y = 50;
  const other = figma.createRectangle();
  other.name = "Other";
  const source = figma.createRectangle();
  source.name = name;
  source.resize(width, height);
  source.x = 20;
  source.y = 30;
  board.appendChild(source);
  board.appendChild(other);
  figma.journal.length = 0;
  return { board, source, other };
}
