/// <reference types="@figma/plugin-typings" />
// The plugin's main code against figma-api-stub (+ small fakes, see fake-figma.ts).
import sharp from "sharp";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { defaultSettings } from "../../shared/plugin-messages";
import type { Shape, ShapeList } from "../../shared/shapes";
import { addSource, type PluginHarness, solidPng, startHarness } from "./harness";

const c = (r: number, g: number, b: number, a: number) => ({ r, g, b, a });

/** Working size 200×100 for a 400×200 source: everything scales by 2. */
const mixed: ShapeList = {
  width: 200,
  height: 100,
  background: c(10, 20, 30, 255),
  shapes: [
    {
      type: "triangle",
      points: [
        [0, 0],
        [20, 0],
        [0, 10],
      ],
      color: c(255, 0, 0, 128),
    },
    { type: "rectangle", x1: 10, y1: 10, x2: 30, y2: 20, color: c(0, 255, 0, 255) },
    { type: "rotated-rectangle", cx: 50, cy: 50, rx: 10, ry: 5, angle: 30, color: c(0, 0, 255, 64) },
    { type: "ellipse", cx: 100, cy: 50, rx: 20, ry: 10, color: c(1, 2, 3, 4) },
    { type: "rotated-ellipse", cx: 100, cy: 50, rx: 20, ry: 10, angle: -45, color: c(1, 2, 3, 4) },
    { type: "circle", cx: 150, cy: 50, r: 5, color: c(255, 255, 255, 255) },
    {
      type: "polygon",
      points: [
        [0, 0],
        [10, 0],
        [10, 10],
        [0, 10],
      ],
      color: c(9, 9, 9, 9),
    },
    { type: "bezier", p0: [0, 50], c: [50, 0], p1: [100, 50], width: 2, color: c(255, 128, 0, 200) },
  ],
};

// biome-ignore lint/suspicious/noExplicitAny: assertions read properties of many node types
type Node = SceneNode & Record<string, any>;

let h: PluginHarness;
beforeEach(async () => {
  vi.resetModules();
  h = await startHarness();
});

const settings = { ...defaultSettings(), token: "secret-pairing-token" };

describe("plugin main code", () => {
  it("answers ui-ready with settings and explains a missing selection", async () => {
    h.send({ type: "ui-ready" });
    const init = await h.next("init");
    expect(init.settings).toEqual(defaultSettings());
    expect((await h.next("selection")).selection).toMatchObject({ ok: false, reason: "none" });

    const { source } = addSource(h.figma);
    h.figma.currentPage.selection = [source];
    expect((await h.next("selection")).selection).toEqual({
      ok: true,
      layers: [{ id: source.id, name: "Photo", type: "RECTANGLE", width: 400, height: 200 }],
    });
  });

  it("several selected layers are a batch in reading order: rows from the top, each left to right", async () => {
    const at = (name: string, x: number, y: number) => {
      const r = h.figma.createRectangle();
      Object.assign(r, { name, x, y });
      r.resize(100, 100);
      return r;
    };
    // a 2×2 grid selected in a scrambled order, the second row a little uneven
    const grid = [at("D", 200, 210), at("B", 200, 0), at("C", 0, 190), at("A", 0, 10)];
    h.figma.currentPage.selection = grid;
    const sel = (await h.next("selection")).selection;
    expect(sel.ok && sel.layers.map((l) => l.name)).toEqual(["A", "B", "C", "D"]);
  });

  it("a batch with a hidden layer, or a layer inside another selected one, is refused naming it", async () => {
    const { source, board, other } = addSource(h.figma);
    other.resize(50, 50);
    other.visible = false;
    h.figma.currentPage.selection = [source, other];
    const hidden = (await h.next("selection")).selection;
    expect(hidden).toMatchObject({ ok: false });
    if (!hidden.ok) expect(hidden.hint).toMatch(/“Other” is hidden.*deselect it/);

    h.figma.currentPage.selection = [board, source];
    const nested = (await h.next("selection")).selection;
    expect(nested).toMatchObject({ ok: false, reason: "multiple" });
    if (!nested.ok) expect(nested.hint).toMatch(/“Photo” is inside “Board”, which is selected too/);

    // picking a style, mask or focus layer still takes exactly one
    other.visible = true;
    h.figma.currentPage.selection = [source, other];
    h.send({ type: "pick-layer", role: "style" });
    expect((await h.next("plugin-error")).message).toMatch(/2 layers are selected\. Select just one/);
  });

  it("exports the layer a batch names, whatever is selected now", async () => {
    const { source, other } = addSource(h.figma, "First", 300, 100);
    other.resize(50, 100);
    h.figma.currentPage.selection = [other];
    h.send({ type: "prepare-job", requestId: "b1", sourceId: source.id, workSize: 120 });
    const job = await h.next("job-images");
    expect(job.source).toMatchObject({ id: source.id, name: "First" });
    const meta = await sharp(job.content).metadata();
    expect([meta.width, meta.height]).toEqual([120, 40]);
  });

  it("persists settings (and the pairing token) in clientStorage", async () => {
    const saved = { ...defaultSettings(), token: "secret-token", mode: "style" as const };
    h.send({ type: "save-settings", settings: saved });
    await vi.waitFor(() => expect(h.figma.storage.size).toBe(1));
    h.send({ type: "ui-ready" });
    expect((await h.next("init")).settings).toMatchObject({ token: "secret-token", mode: "style" });
  });

  it("exports the selected layer as PNG with its longest side at the working size", async () => {
    const { source } = addSource(h.figma, "Tall", 150, 300);
    h.figma.currentPage.selection = [source];
    h.send({ type: "prepare-job", requestId: "r1", workSize: 256 });
    const job = await h.next("job-images");
    expect(job.source).toMatchObject({ id: source.id, name: "Tall" });
    const meta = await sharp(job.content).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["png", 128, 256]);
    expect(job.styles).toEqual([]);
    expect(h.figma.journal).toEqual([]); // exporting never edits the document
  });

  it("a large frame as the focus of a small icon exports at about the working size, not tens of thousands of px", async () => {
    const { source, board } = addSource(h.figma, "Icon", 24, 24);
    const wall = h.figma.createFrame();
    wall.name = "Wall";
    wall.resize(6000, 4000);
    h.figma.currentPage.appendChild(wall);
    h.figma.currentPage.selection = [source];
    h.send({ type: "prepare-job", requestId: "f1", workSize: 256, maskLayerId: wall.id });
    const job = await h.next("job-images");
    const meta = await sharp(job.mask!.png).metadata();
    expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(4 * 256);
    // still placed by its box, relative to the source
    expect(job.mask).toMatchObject({ x: -(board.x + source.x), y: -(board.y + source.y), width: 6000, height: 4000 });

    const away = h.figma.createRectangle();
    away.name = "Away";
    away.x = 9000;
    h.send({ type: "prepare-job", requestId: "f2", workSize: 256, maskLayerId: away.id });
    const err = await h.next("plugin-error");
    expect(err).toMatchObject({ requestId: "f2" });
    expect(err.message).toMatch(/“Away” does not overlap “Icon”/);
  });

  it("refuses to run with nothing selected, with the hint and the request id", async () => {
    h.send({ type: "prepare-job", requestId: "r2", workSize: 256 });
    const err = await h.next("plugin-error");
    expect(err).toMatchObject({ requestId: "r2" });
    expect(err.message).toMatch(/Select one layer/);
  });

  it("uses other layers as style and region mask, the mask placed relative to the source", async () => {
    const { source, board } = addSource(h.figma);
    const style = h.figma.createRectangle();
    style.name = "Starry";
    style.resize(300, 300);
    const mask = h.figma.createEllipse();
    mask.name = "Subject";
    mask.resize(100, 50);
    mask.x = 70; // board-relative; the source is at (20, 30) in the same board
    mask.y = 40;
    board.appendChild(mask);

    h.figma.currentPage.selection = [style];
    h.send({ type: "pick-layer", role: "style" });
    expect((await h.next("picked-layer")).layer).toMatchObject({ id: style.id, name: "Starry" });
    h.figma.currentPage.selection = [];
    h.send({ type: "pick-layer", role: "mask" });
    expect((await h.next("plugin-error")).message).toMatch(/as the mask: Select one layer/);

    h.figma.currentPage.selection = [source];
    h.send({ type: "prepare-job", requestId: "r3", workSize: 200, styleLayerIds: [style.id], maskLayerId: mask.id });
    const job = await h.next("job-images");
    expect(job.styles[0].layer.name).toBe("Starry");
    expect((await sharp(job.styles[0].png).metadata()).width).toBe(200);
    expect(job.mask).toMatchObject({ x: 50, y: 10, width: 100, height: 50 });
    const m = await sharp(job.mask!.png).metadata();
    expect([m.width, m.height]).toEqual([50, 25]); // same scale as the content: 200 / 400

    h.send({ type: "prepare-job", requestId: "r4", workSize: 200, styleLayerIds: [source.id] });
    expect((await h.next("plugin-error")).message).toMatch(/style layer is the layer being stylized/);
  });

  it("inserts primitives as one native node per shape in a clipping frame beside the source", async () => {
    const { board, source, other } = addSource(h.figma);
    const before = JSON.stringify({ x: source.x, y: source.y, w: source.width, h: source.height, f: source.fills });
    h.send({ type: "insert-primitives", requestId: "p1", sourceId: source.id, result: mixed, settings });
    const done = await h.next("inserted");
    const frame = h.figma.nodeById(done.nodeId) as unknown as FrameNode & Node;

    expect(frame.type).toBe("FRAME");
    expect(frame.name).toBe("Primitives — Photo (8 shapes)");
    expect(done).toMatchObject({ requestId: "p1", name: frame.name, count: 8 });
    expect(frame.parent).toBe(board);
    expect(board.children.map((n) => n.name)).toEqual(["Photo", frame.name, "Other"]);
    expect([frame.x, frame.y, frame.width, frame.height]).toEqual([source.x + 400 + 40, source.y, 400, 200]);
    expect(frame.clipsContent).toBe(true);
    expect(frame.visible).toBe(true);
    expect(other.parent).toBe(board);
    expect(JSON.stringify({ x: source.x, y: source.y, w: source.width, h: source.height, f: source.fills })).toBe(
      before,
    );

    const [bg, ...kids] = frame.children as Node[];
    expect(bg).toMatchObject({ type: "RECTANGLE", name: "Background", width: 400, height: 200 });
    expect(bg.fills[0]).toMatchObject({ type: "SOLID", color: { r: 10 / 255, g: 20 / 255, b: 30 / 255 }, opacity: 1 });
    expect(kids.map((n) => n.type)).toEqual([
      "VECTOR",
      "RECTANGLE",
      "RECTANGLE",
      "ELLIPSE",
      "ELLIPSE",
      "ELLIPSE",
      "VECTOR",
      "VECTOR",
    ]);
    expect(kids.map((n) => n.name)).toEqual([
      "Triangle 1",
      "Rectangle 2",
      "Rotated rectangle 3",
      "Ellipse 4",
      "Rotated ellipse 5",
      "Circle 6",
      "Polygon 7",
      "Curve 8",
    ]);
    const [tri, rect, rrect, ell, rell, circ, poly, curve] = kids;
    expect(tri.vectorPaths).toEqual([{ windingRule: "NONZERO", data: "M 0 0 L 40 0 L 0 20 Z" }]);
    expect(tri.fills[0]).toMatchObject({ color: { r: 1, g: 0, b: 0 } });
    expect(tri.fills[0].opacity).toBeCloseTo(128 / 255);
    expect([rect.x, rect.y, rect.width, rect.height, rect.rotation]).toEqual([20, 20, 40, 20, 0]);
    expect([rrect.width, rrect.height]).toEqual([40, 20]);
    expect(rrect.rotation).toBeCloseTo(-30); // Figma's rotation is counter-clockwise
    expect([ell.x, ell.y, ell.width, ell.height]).toEqual([160, 80, 80, 40]);
    expect(rell.rotation).toBeCloseTo(45);
    expect([circ.width, circ.height]).toEqual([20, 20]);
    expect(poly.vectorPaths[0].data).toBe("M 0 0 L 20 0 L 20 20 L 0 20 Z");
    expect(curve.fills).toEqual([]);
    expect(curve.strokes[0]).toMatchObject({ type: "SOLID", color: { r: 1, g: 128 / 255, b: 0 } });
    expect([curve.strokeWeight, curve.strokeCap]).toEqual([4, "ROUND"]);

    // one undo step: every creation, then a single commit
    const ops = h.figma.journal.map((e) => e.op);
    expect(ops.filter((o) => o === "commit")).toHaveLength(1);
    expect(ops.at(-1)).toBe("commit");
    expect(ops.filter((o) => o === "create")).toHaveLength(10);
    expect(ops).not.toContain("remove");

    expect(frame.getRelaunchData()).toHaveProperty("stylize-again");
    // the settings go with the result for "Stylize again", but never the pairing token or address
    const stored = frame.getPluginData("stylize-settings");
    expect(JSON.parse(stored)).toMatchObject({ mode: "primitives", preset: "standard" });
    expect(stored).not.toContain('"token"');
    expect(stored).not.toContain("companionUrl");
  });

  it("inserts gradient shapes as native linear gradient paints (fills, and the stroke of a curve)", async () => {
    const { source } = addSource(h.figma);
    const gradient = { x1: 0, y1: 0, x2: 20, y2: 10, to: { r: 0, g: 0, b: 255 } };
    const result = { ...mixed, shapes: mixed.shapes.map((shape) => ({ ...shape, gradient })) };
    h.send({ type: "insert-primitives", requestId: "g", sourceId: source.id, result, settings });
    const frame = h.figma.nodeById((await h.next("inserted")).nodeId) as unknown as FrameNode & Node;
    const [, ...kids] = frame.children as Node[];
    expect(kids).toHaveLength(8);
    for (const [i, node] of kids.entries()) {
      const paint = (i === 7 ? node.strokes : node.fills)[0] as GradientPaint;
      expect(paint.type).toBe("GRADIENT_LINEAR");
      expect(paint.opacity).toBeCloseTo(mixed.shapes[i].color.a / 255);
      const { r, g, b } = mixed.shapes[i].color;
      expect(paint.gradientStops).toEqual([
        { position: 0, color: { r: r / 255, g: g / 255, b: b / 255, a: 1 } },
        { position: 1, color: { r: 0, g: 0, b: 1, a: 1 } },
      ]);
    }
    // The fake refuses paints Figma would (it is what checks the shape of these).
    expect(() => {
      (kids[0] as unknown as { fills: unknown }).fills = [
        { type: "GRADIENT_LINEAR", gradientTransform: [[1, 0]], gradientStops: [] },
      ];
    }).toThrow(/gradientTransform/);
  });

  it("inserts 1000 shapes in batches with progress, quickly", async () => {
    const { source } = addSource(h.figma);
    const shapes: Shape[] = Array.from({ length: 1000 }, (_, i) => ({
      type: "triangle",
      points: [
        [i % 200, 0],
        [(i * 7) % 200, 50],
        [0, (i * 3) % 100],
      ],
      color: c(i % 256, 0, 0, 128),
    }));
    const t0 = performance.now();
    h.send({
      type: "insert-primitives",
      requestId: "big",
      sourceId: source.id,
      result: { ...mixed, shapes },
      settings,
    });
    const done = await h.next("inserted");
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(done.count).toBe(1000);
    const progress = h.outbox.filter((m) => m.type === "insert-progress");
    expect(progress.map((m) => (m.type === "insert-progress" ? m.done : 0))).toEqual([200, 400, 600, 800, 1000]);
    const frame = h.figma.nodeById(done.nodeId) as FrameNode;
    expect(frame.children).toHaveLength(1001);
    expect(frame.name).toBe("Primitives — Photo (1000 triangles)");
  });

  it("leaves the document untouched when insertion fails midway", async () => {
    const { board, source } = addSource(h.figma);
    const pageBefore = h.figma.currentPage.children.map((n) => n.id);
    const boardBefore = board.children.map((n) => n.id);
    h.figma.failCreationAfter(5);
    h.send({ type: "insert-primitives", requestId: "bad", sourceId: source.id, result: mixed, settings });
    const err = await h.next("plugin-error");
    expect(err).toMatchObject({ requestId: "bad", message: "fake: creation failed" });
    expect(h.figma.currentPage.children.map((n) => n.id)).toEqual(pageBefore);
    expect(board.children.map((n) => n.id)).toEqual(boardBefore);
    const created = h.figma.journal.filter((e) => e.op === "create").map((e) => (e.op === "create" ? e.id : ""));
    const removed = h.figma.journal.filter((e) => e.op === "remove").map((e) => (e.op === "remove" ? e.id : ""));
    expect(created.length).toBe(5);
    expect(removed.sort()).toEqual(created.sort());
    expect(h.figma.journal.some((e) => e.op === "commit")).toBe(false);
  });

  it("clips a result of a layer with transparency by an alpha mask made from the layer's own export", async () => {
    const { source } = addSource(h.figma);
    const result: ShapeList = { ...mixed, clip: "alpha", shapes: mixed.shapes.slice(0, 2) };
    h.send({ type: "insert-primitives", requestId: "m", sourceId: source.id, result, settings });
    const frame = h.figma.nodeById((await h.next("inserted")).nodeId) as unknown as FrameNode & Node;
    const [mask, bg, ...kids] = frame.children as Node[];
    // the mask comes first: in Figma a mask clips the siblings above it (later in `children`)
    expect(mask).toMatchObject({ type: "RECTANGLE", name: "Mask", isMask: true, maskType: "ALPHA" });
    expect([mask.x, mask.y, mask.width, mask.height]).toEqual([0, 0, 400, 200]);
    expect(mask.fills[0]).toMatchObject({ type: "IMAGE", scaleMode: "FILL" });
    // the source exported at 2× its box, and that very PNG is the mask's image
    expect(h.figma.exports.at(-1)).toEqual({ name: "Photo", width: 800, height: 400 });
    const png = h.figma.images.get(mask.fills[0].imageHash)!;
    expect((await sharp(png).metadata()).width).toBe(800);
    expect(bg.name).toBe("Background");
    expect(kids.map((n) => n.name)).toEqual(["Triangle 1", "Rectangle 2"]);
    // an opaque result has no mask
    h.send({ type: "insert-primitives", requestId: "o", sourceId: source.id, result: mixed, settings });
    const plain = h.figma.nodeById((await h.next("inserted")).nodeId) as unknown as FrameNode & Node;
    expect((plain.children as Node[]).some((n) => n.isMask)).toBe(false);
  });

  it("marks a partial (cancelled) result in its name", async () => {
    const { source } = addSource(h.figma);
    const result = { ...mixed, shapes: mixed.shapes.slice(0, 1) };
    h.send({ type: "insert-primitives", requestId: "part", sourceId: source.id, result, partial: true, settings });
    expect((await h.next("inserted")).name).toBe("Primitives — Photo (1 triangle) — partial");
  });

  it("inserts a style result as an image-filled rectangle the size of the source", async () => {
    const { board, source } = addSource(h.figma);
    const png = await solidPng(64, 32);
    h.send({ type: "insert-style", requestId: "s1", sourceId: source.id, styleName: "Starry", png, settings });
    const done = await h.next("inserted");
    const rect = h.figma.nodeById(done.nodeId) as unknown as Node;
    expect(rect).toMatchObject({ type: "RECTANGLE", name: "Photo — styled as Starry", width: 400, height: 200 });
    expect(rect.parent).toBe(board);
    expect([rect.x, rect.y]).toEqual([460, 30]);
    expect(rect.fills).toHaveLength(1);
    expect(rect.fills[0]).toMatchObject({ type: "IMAGE", scaleMode: "FILL" });
    expect(h.figma.images.get(rect.fills[0].imageHash)).toEqual(png);
    expect(h.figma.journal.map((e) => e.op)).toEqual(["create", "commit"]);
  });

  it("reports a deleted source without creating anything", async () => {
    const { source } = addSource(h.figma);
    source.remove();
    h.figma.journal.length = 0;
    const png = await solidPng(8, 8);
    h.send({ type: "insert-style", requestId: "s2", sourceId: source.id, styleName: "X", png, settings });
    expect((await h.next("plugin-error")).message).toMatch(/source layer is gone/);
    expect(h.figma.journal).toEqual([]);
  });

  it("rejects malformed messages from the UI, answering the request's id so the UI stops waiting", async () => {
    h.send({ type: "insert-primitives", requestId: "x", sourceId: "1:2", result: { width: -1 } });
    const err = await h.next("plugin-error");
    expect(err.message).toMatch(/malformed message/);
    expect(err.requestId).toBe("x");
    h.send({ type: "insert-style", requestId: "y", sourceId: "1:2", styleName: "n".repeat(201) });
    expect((await h.next("plugin-error")).requestId).toBe("y");
    h.send({ type: "insert-style", requestId: "not an id!" });
    expect((await h.next("plugin-error")).requestId).toBeUndefined();
  });
});

describe("palette binding", () => {
  it("looks each colour variable up once, however many shapes take its colour", async () => {
    const { source } = addSource(h.figma);
    const variable = {
      id: "VariableID:1:1",
      name: "Brand/red",
      variableCollectionId: "C1",
      valuesByMode: { m1: { r: 1, g: 0, b: 0, a: 1 } },
    };
    let lookups = 0;
    (h.figma as unknown as { variables: unknown }).variables = {
      getLocalVariablesAsync: async () => [variable],
      getVariableCollectionByIdAsync: async () => ({ defaultModeId: "m1" }),
      getVariableByIdAsync: async (id: string) => {
        lookups++;
        return id === variable.id ? variable : null;
      },
      setBoundVariableForPaint: (paint: object, field: string, v: { id: string }) => ({
        ...paint,
        boundVariables: { [field]: { type: "VARIABLE_ALIAS", id: v.id } },
      }),
    };
    const shapes: Shape[] = Array.from({ length: 450 }, (_, i) => ({
      type: "rectangle",
      x1: i % 100,
      y1: 0,
      x2: (i % 100) + 5,
      y2: 5,
      color: c(255, 0, 0, 128),
    }));
    const result = { ...mixed, shapes };
    const used = { ...settings, primitives: { ...settings.primitives, palette: ["#ff0000"] } };
    h.send({ type: "insert-primitives", requestId: "v", sourceId: source.id, result, settings: used });
    const frame = h.figma.nodeById((await h.next("inserted")).nodeId) as FrameNode;
    const bound = frame.children.filter((n) => (n as Node).fills[0]?.boundVariables?.color?.id === variable.id);
    expect(bound).toHaveLength(450);
    expect(lookups).toBe(1);
  });
});

describe("Stylize again", () => {
  /** A style result of a fresh source; the plugin is then started again from the result. */
  async function relaunchFrom(
    move: (f: PluginHarness["figma"], source: SceneNode) => Promise<void>,
    used: typeof settings = settings,
  ) {
    const first = await startHarness();
    const { source } = addSource(first.figma);
    const png = await solidPng(8, 8);
    first.send({ type: "insert-style", requestId: "a", sourceId: source.id, styleName: "X", png, settings: used });
    const result = first.figma.nodeById((await first.next("inserted")).nodeId) as SceneNode;
    await move(first.figma, source);
    vi.resetModules();
    first.figma.currentPage.selection = [result];
    (first.figma as unknown as { command: string }).command = "stylize-again";
    const { startPlugin } = await import("../../plugin/controller");
    startPlugin();
    first.outbox.length = 0;
    first.send({ type: "ui-ready" });
    return { figma: first.figma, init: await first.next("init"), source, result };
  }

  it("relaunching from a result reselects its source and reuses its settings", async () => {
    const used = { ...settings, mode: "style" as const, preset: "high" as const };
    const { figma, init, source } = await relaunchFrom(async () => {}, used);
    expect(init.relaunch).toMatchObject({ mode: "style", preset: "high" });
    expect(figma.currentPage.selection.map((n) => n.id)).toEqual([source.id]);
  });

  it("finds the source on another page, goes there and selects it", async () => {
    let other: PageNode | undefined;
    const { figma, init, source } = await relaunchFrom(async (f, s) => {
      other = f.createPage();
      other.name = "Archive";
      await other.loadAsync();
      other.appendChild(s);
      (other as unknown as { loaded: boolean }).loaded = false; // dynamic-page: not loaded until visited
    });
    expect(init.relaunch).toBeDefined();
    expect(init.relaunchSourceGone).toBeUndefined();
    expect(figma.currentPage).toBe(other);
    expect(figma.currentPage.selection.map((n) => n.id)).toEqual([source.id]);
  });

  it("says so when the source is gone, and does not leave the result selected to run on", async () => {
    const { figma, init } = await relaunchFrom(async (_f, s) => s.remove());
    expect(init).toMatchObject({ relaunchSourceGone: true, relaunch: { mode: "primitives" } });
    expect(figma.currentPage.selection).toEqual([]);
  });
});
