/// <reference types="@figma/plugin-typings" />
// What real Figma files hold and the stub never had: auto-layout, instances, main components,
// clipping frames, sections, effects and rotation (render bounds ≠ bounding box), hidden layers,
// unloaded pages, closing the plugin mid-insertion, long names, and the privacy of the token.
// The fake (fake-figma.ts) enforces Figma's rules; each test here failed on the stub-era plugin.
import sharp from "sharp";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { defaultSettings, parseUiMessage } from "../../shared/plugin-messages";
import type { ShapeList } from "../../shared/shapes";
import type { FakeFigma } from "./fake-figma";
import { type PluginHarness, solidPng, startHarness } from "./harness";

const GAP = 40;
const settings = { ...defaultSettings(), token: "secret-pairing-token", companionUrl: "ws://localhost:1234" };
const shapes = (n: number): ShapeList => ({
  width: 100,
  height: 50,
  background: { r: 1, g: 2, b: 3, a: 255 },
  shapes: Array.from({ length: n }, (_, i) => ({
    type: "rectangle" as const,
    x1: i % 90,
    y1: 0,
    x2: (i % 90) + 10,
    y2: 10,
    color: { r: 9, g: 9, b: 9, a: 128 },
  })),
});

type Loose = Record<string, unknown>;
let h: PluginHarness;
let figma: FakeFigma;
beforeEach(async () => {
  vi.resetModules();
  h = await startHarness();
  figma = h.figma;
});

function frame(name: string, x: number, y: number, w: number, hgt: number, parent?: BaseNode & ChildrenMixin) {
  const f = figma.createFrame();
  f.name = name;
  f.resize(w, hgt);
  f.x = x;
  f.y = y;
  if (parent) parent.appendChild(f);
  return f;
}
function rect(name: string, x: number, y: number, w: number, hgt: number, parent: BaseNode & ChildrenMixin) {
  const r = figma.createRectangle();
  r.name = name;
  r.resize(w, hgt);
  r.x = x;
  r.y = y;
  parent.appendChild(r);
  return r;
}
const positions = (nodes: readonly SceneNode[]) => nodes.map((n) => [n.name, n.x, n.y]);
const absBox = (n: SceneNode) => (n as FrameNode).absoluteBoundingBox!;

async function insertPrimitives(source: SceneNode, n = 3) {
  figma.journal.length = 0;
  h.send({ type: "insert-primitives", requestId: "r", sourceId: source.id, result: shapes(n), settings });
  const done = await h.next("inserted");
  return figma.nodeById(done.nodeId) as FrameNode;
}
/** The result sits GAP to the right of the source's rendered box, top-aligned, in absolute terms. */
function expectBeside(result: FrameNode, source: SceneNode) {
  const box = (source as FrameNode).absoluteRenderBounds!;
  const r = absBox(result);
  expect(r.x).toBeCloseTo(box.x + box.width + GAP);
  expect(r.y).toBeCloseTo(box.y);
  expect(r.width).toBeCloseTo(box.width);
  expect(r.height).toBeCloseTo(box.height);
}

describe("placing results in real documents", () => {
  it("an auto-layout parent: the designer's layers do not reflow, the result is beside the source", async () => {
    const board = frame("Board", 0, 0, 2000, 1000);
    const row = frame("Cards", 100, 100, 800, 200, board);
    Object.assign(row, { layoutMode: "HORIZONTAL", itemSpacing: 20, paddingLeft: 10, paddingTop: 10 });
    const a = rect("Card A", 0, 0, 150, 100, row);
    const b = rect("Card B", 0, 0, 150, 100, row);
    const c = rect("Card C", 0, 0, 150, 100, row);
    const before = positions(row.children);
    expect(before).toEqual([
      ["Card A", 10, 10],
      ["Card B", 180, 10],
      ["Card C", 350, 10],
    ]);
    const result = await insertPrimitives(b);
    expect(positions(row.children)).toEqual(before);
    expect(row.children).toEqual([a, b, c]);
    expect(result.parent).toBe(board);
    expectBeside(result, b);
  });

  it("inside an instance, at any depth: the result goes outside it, placed from absolute transforms", async () => {
    const board = frame("Board", 50, 50, 2000, 1000);
    const inst = frame("Button", 300, 200, 400, 300, board);
    const inner = frame("Inner", 30, 40, 300, 200, inst);
    const icon = rect("Icon", 10, 20, 80, 60, inner);
    figma.makeInstance(inst);
    const result = await insertPrimitives(icon);
    expect(result.parent).toBe(board);
    expect(inst.children).toEqual([inner]);
    expect(inner.children).toEqual([icon]);
    expectBeside(result, icon);
    // instance-relative x/y would have put it at 10+80+40 = 130 in the board: far from the icon
    expect(absBox(result).x).toBeCloseTo(50 + 300 + 30 + 10 + 80 + GAP);
  });

  it("inside a main component: the component (and so every instance) is left alone", async () => {
    const board = frame("Board", 0, 0, 2000, 1000);
    const comp = figma.retype<ComponentNode>(frame("Card", 100, 100, 400, 300, board), "COMPONENT");
    const photo = rect("Photo", 20, 20, 200, 150, comp as unknown as FrameNode);
    const result = await insertPrimitives(photo);
    expect(comp.children).toEqual([photo]);
    expect(result.parent).toBe(board);
    expectBeside(result, photo);
  });

  it("a clipping frame where the space beside is out of view: the result goes up a level", async () => {
    const page = figma.currentPage;
    const phone = frame("Phone", 500, 100, 375, 800);
    const hero = rect("Hero", 25, 40, 325, 200, phone);
    const result = await insertPrimitives(hero);
    expect(result.parent).toBe(page);
    expectBeside(result, hero);
    // a frame that does not clip keeps it, as does a clipping frame with room beside
    (phone as unknown as Loose).clipsContent = false;
    expect((await insertPrimitives(hero)).parent).toBe(phone);
    Object.assign(phone as unknown as Loose, { clipsContent: true });
    phone.resize(1200, 800);
    expect((await insertPrimitives(hero)).parent).toBe(phone);
  });

  it("a source in a group or a boolean operation: the result does not join it", async () => {
    const board = frame("Board", 0, 0, 2000, 1000);
    const group = figma.retype<GroupNode>(frame("Group", 100, 100, 300, 300, board), "GROUP");
    const inGroup = rect("In group", 0, 0, 100, 100, group as unknown as FrameNode);
    const boolOp = figma.retype<BooleanOperationNode>(frame("Union", 600, 100, 300, 300, board), "BOOLEAN_OPERATION");
    const inBool = rect("In union", 0, 0, 100, 100, boolOp as unknown as FrameNode);
    const r1 = await insertPrimitives(inGroup);
    const r2 = await insertPrimitives(inBool);
    expect([r1.parent, r2.parent]).toEqual([board, board]);
    expect(group.children).toEqual([inGroup]);
    expect(boolOp.children).toEqual([inBool]);
    expect(board.children.map((n) => n.name)).toEqual(["Group", r1.name, "Union", r2.name]);
  });

  it("a section too small for the result: the result goes on the page", async () => {
    const section = figma.retype<SectionNode>(frame("Section", 0, 0, 500, 500), "SECTION");
    const art = rect("Art", 100, 100, 300, 200, section as unknown as FrameNode);
    const result = await insertPrimitives(art);
    expect(result.parent).toBe(figma.currentPage);
    expect(section.children).toEqual([art]);
    expectBeside(result, art);
  });

  it("the source's page was not loaded (the designer switched pages mid-job): it is loaded, then used", async () => {
    const other = figma.createPage();
    other.name = "Page 2";
    await other.loadAsync();
    const board = frame("Board", 0, 0, 2000, 1000);
    other.appendChild(board); // built while loaded…
    const art = rect("Art", 10, 10, 100, 50, board);
    (other as unknown as Loose).loaded = false; // …and unloaded when the designer left it
    const result = await insertPrimitives(art);
    expect(result.parent).toBe(board);
    expect((other as unknown as Loose).loaded).toBe(true);
  });
});

describe("exporting what Figma renders", () => {
  it("a drop shadow and an outside stroke: export, result size and position all use the render bounds", async () => {
    const board = frame("Board", 0, 0, 2000, 1000);
    const card = rect("Card", 100, 100, 200, 100, board);
    Object.assign(card as unknown as Loose, {
      strokes: [{ type: "SOLID", color: { r: 0, g: 0, b: 0 } }],
      strokeWeight: 10,
      strokeAlign: "OUTSIDE",
      effects: [{ type: "DROP_SHADOW", visible: true, radius: 20, spread: 0, offset: { x: 0, y: 40 } }],
    });
    const box = card.absoluteRenderBounds!;
    // stroked: 220×120 at (90, 90); the shadow, 40 lower and blurred 20 around, reaches y = 270
    expect(box).toEqual({ x: 70, y: 90, width: 260, height: 180 });
    figma.currentPage.selection = [card];
    h.send({ type: "prepare-job", requestId: "e", workSize: 260 });
    const job = await h.next("job-images");
    const meta = await sharp(job.content).metadata();
    expect([meta.width, meta.height]).toEqual([260, 180]);
    expect(job.source).toMatchObject({ width: 260, height: 180 });

    h.send({ type: "insert-style", requestId: "s", sourceId: card.id, styleName: "X", png: job.content, settings });
    const styled = figma.nodeById((await h.next("inserted")).nodeId) as RectangleNode;
    expect([styled.width, styled.height]).toEqual([260, 180]);
    expect([styled.x, styled.y]).toEqual([70 + 260 + GAP, 90]);
  });

  it("a rotated source: exported upright as Figma renders it, the result matches that box", async () => {
    const board = frame("Board", 0, 0, 2000, 1000);
    const tall = rect("Rotated", 300, 300, 200, 100, board);
    tall.rotation = 90; // now 100 wide and 200 tall on the canvas
    figma.currentPage.selection = [tall];
    h.send({ type: "prepare-job", requestId: "rot", workSize: 128 });
    const meta = await sharp((await h.next("job-images")).content).metadata();
    expect([meta.width, meta.height]).toEqual([64, 128]);
    const result = await insertPrimitives(tall);
    expect([result.width, result.height].map(Math.round)).toEqual([100, 200]);
    expectBeside(result, tall);
  });

  it("children overflowing a non-clipping frame: the mask box is measured from the same render box", async () => {
    const board = frame("Board", 0, 0, 2000, 1000);
    const group = frame("Spill", 100, 100, 200, 100, board);
    (group as unknown as Loose).clipsContent = false;
    rect("Overflow", -50, 0, 100, 100, group); // sticks out 50 to the left
    const mask = rect("Mask", 100, 100, 50, 50, board);
    figma.currentPage.selection = [group];
    h.send({ type: "prepare-job", requestId: "m", workSize: 250, maskLayerId: mask.id });
    const job = await h.next("job-images");
    expect(job.source).toMatchObject({ width: 250, height: 100 });
    expect(job.mask).toMatchObject({ x: 50, y: 0, width: 50, height: 50 }); // relative to the render box at x=50
  });

  it("hidden and zero-size sources are refused in plain words", async () => {
    const board = frame("Board", 0, 0, 2000, 1000);
    const hidden = rect("Hidden logo", 0, 0, 100, 100, board);
    hidden.visible = false;
    figma.currentPage.selection = [hidden];
    h.send({ type: "prepare-job", requestId: "h1", workSize: 128 });
    expect((await h.next("plugin-error")).message).toMatch(/“Hidden logo” is hidden/);
    const inHidden = rect("Child", 0, 0, 100, 100, frame("Hidden frame", 0, 0, 100, 100, board));
    (inHidden.parent as unknown as Loose).visible = false;
    figma.currentPage.selection = [inHidden];
    expect((await h.next("selection")).selection).toMatchObject({ ok: false });
    h.send({ type: "prepare-job", requestId: "h2", workSize: 128 });
    expect((await h.next("plugin-error")).message).toMatch(/does not show on the canvas/);
    const line = rect("Line", 0, 0, 100, 1, board);
    (line as unknown as Loose).height = 0; // a line: Figma's resize() refuses 0, but lines have it
    figma.currentPage.selection = [line];
    h.send({ type: "prepare-job", requestId: "h3", workSize: 128 });
    expect((await h.next("plugin-error")).message).toMatch(/no area/);
  });
});

describe("never damaging the file", () => {
  it("closing the plugin mid-insertion leaves nothing behind (Figma stops the plugin's timers)", async () => {
    const board = frame("Board", 0, 0, 2000, 1000);
    const art = rect("Art", 10, 10, 100, 50, board);
    const pageBefore = figma.currentPage.children.map((n) => n.id);
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    try {
      figma.journal.length = 0;
      h.send({ type: "insert-primitives", requestId: "c", sourceId: art.id, result: shapes(1000), settings });
      await vi.waitFor(() => expect(h.outbox.some((m) => m.type === "insert-progress")).toBe(true));
      expect(figma.journal.filter((e) => e.op === "create").length).toBeGreaterThan(100); // half built
      figma.closePlugin();
      vi.clearAllTimers(); // the plugin is gone: its next batch never runs
    } finally {
      vi.useRealTimers();
    }
    expect(figma.currentPage.children.map((n) => n.id)).toEqual(pageBefore);
    expect(board.children).toEqual([art]);
    expect(figma.journal.some((e) => e.op === "commit")).toBe(false);
  });

  it("a very long layer name still gets a relaunch button (Figma's limit is 1000 characters)", async () => {
    const board = frame("Board", 0, 0, 2000, 1000);
    const art = rect("A".repeat(3000), 10, 10, 100, 50, board);
    const result = await insertPrimitives(art);
    const description = result.getRelaunchData()["stylize-again"];
    expect(description.length).toBeLessThan(1000);
    expect(description).toMatch(/^Re-run Stylize on “A+…” with the same settings$/);
  });

  it("the pairing token and companion address never go into the document", async () => {
    const board = frame("Board", 0, 0, 2000, 1000);
    const art = rect("Art", 10, 10, 100, 50, board);
    const result = await insertPrimitives(art);
    const data = result
      .getPluginDataKeys()
      .map((k) => result.getPluginData(k))
      .join("\n");
    expect(data).not.toContain(settings.token);
    expect(data).not.toContain("localhost:1234");
    expect(data).toContain('"mode":"primitives"');
  });

  it("image bytes that are a view into a larger buffer are refused (Figma reads the whole buffer)", async () => {
    const png = await solidPng(8, 8);
    const big = new Uint8Array(png.length + 100);
    big.set(png, 50);
    const view = big.subarray(50, 50 + png.length);
    const msg = { type: "insert-style", requestId: "v", sourceId: "1:2", styleName: "X", settings };
    expect(parseUiMessage({ ...msg, png: view }).ok).toBe(false);
    expect(parseUiMessage({ ...msg, png: view.slice() }).ok).toBe(true);
  });
});
