// The e2e harness page: plays Figma. It runs the built plugin (dist/code.js) with figma-api-stub
// (+ fakes) as the `figma` global, shows the built UI (dist/ui.html) in an iframe when the plugin
// calls showUI, and relays messages both ways the way Figma does ({ pluginMessage }).
import type { FakeFigma } from "../../plugin/fake-figma";
import { createFakeFigma } from "../../plugin/fake-figma";

/** Figma renders layers; here each test layer paints a recognisable picture. */
async function renderPng(node: SceneNode, width: number, height: number): Promise<Uint8Array> {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d")!;
  if (node.name === "Subject") {
    // A cut-out: an ellipse on transparency, light (a focus or region mask) and banded (one flat
    // colour would need no shapes: the background alone matches it).
    ctx.beginPath();
    ctx.ellipse(width / 2, height / 2, width / 2, height / 2, 0, 0, 2 * Math.PI);
    ctx.clip();
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = "#d0d0d0";
    for (let i = 1; i < 8; i += 2) ctx.fillRect(0, (i * height) / 8, width, height / 8);
  } else if (node.name === "Glass") {
    // paints nothing: a layer whose box overlaps the photo but whose pixels are all transparent
  } else if (node.name === "Swatch") {
    ctx.fillStyle = "#2a9d8f";
    ctx.fillRect(0, 0, width, height);
  } else if (node.name === "Starry") {
    for (let i = 0; i < 12; i++) {
      ctx.fillStyle = i % 2 ? "#1d3b8f" : "#f2c230";
      ctx.fillRect(0, (i * height) / 12, width, height / 12 + 1);
    }
  } else {
    const sky = ctx.createLinearGradient(0, 0, 0, height);
    sky.addColorStop(0, "#5aa9e6");
    sky.addColorStop(1, "#f6d6ad");
    ctx.fillStyle = sky;
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = "#ff6b35";
    ctx.beginPath();
    ctx.arc(width * 0.65, height * 0.4, height * 0.2, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = "#2d6a4f";
    ctx.fillRect(0, height * 0.7, width, height * 0.3);
  }
  const blob = await canvas.convertToBlob({ type: "image/png" });
  return new Uint8Array(await blob.arrayBuffer());
}

const figma: FakeFigma = createFakeFigma(renderPng);
const w = window as unknown as Record<string, unknown>;
w.figma = figma;
w.__html__ = "";

// the document: a board holding the photo to stylize, a style layer and a mask layer, plus what
// real files have: an auto-layout row of cards and a component instance with an icon inside
const board = figma.createFrame();
board.name = "Board";
board.resize(1600, 900);
const add = (
  make: () => RectangleNode | EllipseNode,
  name: string,
  x: number,
  y: number,
  width: number,
  height: number,
  parent: FrameNode = board,
) => {
  const n = make();
  n.name = name;
  n.resize(width, height);
  n.x = x;
  n.y = y;
  parent.appendChild(n);
  return n;
};
add(() => figma.createRectangle(), "Photo", 40, 40, 320, 240);
add(() => figma.createRectangle(), "Starry", 40, 400, 200, 200);
add(() => figma.createEllipse(), "Subject", 160, 80, 120, 160);
add(() => figma.createRectangle(), "Swatch", 40, 820, 120, 80);
add(() => figma.createRectangle(), "Glass", 300, 60, 40, 40);
const cards = figma.createFrame();
cards.name = "Cards";
cards.resize(560, 140);
Object.assign(cards, { x: 400, y: 640, layoutMode: "HORIZONTAL", itemSpacing: 20, paddingLeft: 20, paddingTop: 20 });
board.appendChild(cards);
for (const name of ["Card A", "Card B", "Card C"]) add(() => figma.createRectangle(), name, 0, 0, 160, 100, cards);
const button = figma.createFrame();
button.name = "Button";
button.resize(200, 120);
Object.assign(button, { x: 1000, y: 640 });
board.appendChild(button);
add(() => figma.createRectangle(), "Icon", 20, 10, 160, 100, button);
figma.makeInstance(button);
figma.journal.length = 0;

// settings a designer would have saved earlier (the e2e points the UI at its own companion port)
const params = new URLSearchParams(location.search);
figma.storage.set("stylize-settings", {
  companionUrl: params.get("ws") ?? undefined,
  token: params.get("token") ?? "",
});

// Figma's UI plumbing: the UI runs in a sandboxed iframe with an opaque ("null") origin under the
// manifest's CSP (served by serve.ts); plugin and UI talk only through postMessage.
let iframe: HTMLIFrameElement | null = null;
let uiLoaded = false;
const queued: unknown[] = [];
const companionPort = new URL(params.get("ws") ?? "ws://localhost:47615").port;
figma.showUI = ((_html: string, opts?: ShowUIOptions) => {
  iframe = document.createElement("iframe");
  iframe.id = "plugin-ui";
  iframe.title = "Stylize plugin UI";
  iframe.width = String(opts?.width ?? 300);
  iframe.height = String(opts?.height ?? 400);
  iframe.setAttribute("sandbox", "allow-scripts allow-popups allow-forms allow-downloads allow-modals");
  iframe.src = `/dist/ui.html?port=${companionPort}`;
  iframe.onload = () => {
    uiLoaded = true;
    for (const m of queued.splice(0)) iframe!.contentWindow!.postMessage({ pluginMessage: m }, "*");
  };
  document.body.appendChild(iframe);
}) as PluginAPI["showUI"];
const ui = {
  onmessage: undefined as ((msg: unknown, props: { origin: string }) => void) | undefined,
  postMessage(msg: unknown) {
    if (iframe?.contentWindow && uiLoaded) iframe.contentWindow.postMessage({ pluginMessage: msg }, "*");
    else queued.push(msg);
  },
};
(figma as unknown as { ui: unknown }).ui = ui;
let uiOrigin = "";
window.addEventListener("message", (ev) => {
  if (!iframe || ev.source !== iframe.contentWindow) return;
  uiOrigin = ev.origin;
  const data = ev.data as { pluginMessage?: unknown };
  if (data && "pluginMessage" in data) ui.onmessage?.(data.pluginMessage, { origin: ev.origin });
});

/** A layer as the tests see it; the test file imports this type. */
export type Summary = {
  name: string;
  type: string;
  x: number;
  y: number;
  width: number;
  height: number;
  children?: Summary[];
};
const summarize = (n: SceneNode): Summary => {
  const s = n as SceneNode & { x: number; y: number; width: number; height: number };
  const out: Summary = { name: s.name, type: s.type, x: s.x, y: s.y, width: s.width, height: s.height };
  if ("children" in n) out.children = (n as ChildrenMixin).children.map(summarize);
  return out;
};

// what the test drives and inspects
w.harness = {
  select(names: string[]) {
    figma.currentPage.selection = figma.currentPage.findAll((n) => names.includes(n.name));
  },
  board: () => summarize(board),
  commits: () => figma.journal.filter((e) => e.op === "commit").length,
  /** The iframe's origin as the UI sees it (Figma's is opaque: "null"). */
  uiOrigin: () => uiOrigin,
  node(name: string) {
    const n = figma.currentPage.findOne((c) => c.name === name) as (SceneNode & Record<string, unknown>) | null;
    if (!n) return null;
    const box = (n as unknown as FrameNode).absoluteBoundingBox!;
    const fills = (n.fills as Paint[]) ?? [];
    const image = fills[0]?.type === "IMAGE" ? figma.images.get((fills[0] as ImagePaint).imageHash ?? "") : undefined;
    return {
      ...summarize(n),
      fills,
      clipsContent: n.clipsContent,
      visible: n.visible,
      relaunch: (n as unknown as BaseNode).getRelaunchData(),
      imageHead: image ? [...image.slice(0, 8)] : null,
      imageBytes: image?.length ?? 0,
      parent: n.parent?.name ?? "",
      absolute: { x: box.x, y: box.y, width: box.width, height: box.height },
    };
  },
};

// start the plugin exactly as Figma would: run the built main code
const script = document.createElement("script");
script.src = "/dist/code.js";
document.body.appendChild(script);
