/// <reference types="@figma/plugin-typings" />
// figma-api-stub (a community stub of the plugin API) plus fakes for what it lacks and the plugin
// needs, written to hold the plugin to real Figma's rules:
// - geometry: relativeTransform/absoluteTransform with rotation, absoluteBoundingBox, and
//   absoluteRenderBounds (strokes outside, drop shadows, children overflowing a non-clipping frame,
//   null when the node or a parent is hidden); exportAsync renders the render bounds, as Figma does;
// - auto-layout frames: children's x/y are ignored unless `layoutPositioning = "ABSOLUTE"`, and any
//   change of children reflows them;
// - instances (at any depth) refuse new children; component sets take only components;
// - dynamic-page: pages other than the first are not loaded until `loadAsync()`, and changing the
//   children of an unloaded page or searching it (findOne/findAll) throws;
// - `figma.on("close")` handlers run on `closePlugin()`, after which nothing may be created;
// - createImage refuses a view into a larger buffer (Figma reads the whole buffer);
//   setRelaunchData refuses descriptions of 1000 characters or more;
// - documentAccess "dynamic-page": the synchronous getNodeById/getStyleById/getLocalPaintStyles throw.
// A journal records creations, removals and undo commits so tests can check "one undo step" and
// "nothing left on failure". Runs in Node (unit tests) and in the browser (the e2e harness).
import { createFigma } from "figma-api-stub";
import * as stubs from "figma-api-stub/dist/componentStubs";

export type RenderPng = (node: SceneNode, width: number, height: number) => Promise<Uint8Array>;
export type JournalEntry = { op: "create" | "remove"; type: string; id: string } | { op: "commit" };

export type FakeFigma = PluginAPI & {
  journal: JournalEntry[];
  /** Every export's pixel size, in order. */
  exports: { name: string; width: number; height: number }[];
  images: Map<string, Uint8Array>;
  storage: Map<string, unknown>;
  /** For tests: the node with this id (plugin code must use getNodeByIdAsync). */
  nodeById(id: string): BaseNode | null;
  /** Make the n-th node creation from now throw (to test clean-up). */
  failCreationAfter(n: number): void;
  /** Turn a built frame into an instance (its children become instance sublayers). */
  makeInstance(frame: FrameNode): InstanceNode;
  /** Retype a built frame (as the fake does for ellipses and vectors): "COMPONENT", "SECTION"… */
  retype<T extends SceneNode>(frame: FrameNode, type: T["type"]): T;
};

type AnyNode = SceneNode & Record<string, unknown>;
/** Write access to what the real API marks read-only (the fake has to set it). */
type Loose = Record<string, unknown>;
type Box = { x: number; y: number; width: number; height: number };

type Proto = { prototype: Record<string, unknown> };
const SCENE_CLASSES = [
  stubs.RectangleNodeStub,
  stubs.FrameNodeStub,
  stubs.GroupNodeStub,
  stubs.ComponentNodeStub,
  stubs.InstanceNodeStub,
  stubs.TextNodeStub,
  stubs.BooleanOperationNodeStub,
] as unknown as Proto[];
const CONTAINER_CLASSES = [
  stubs.FrameNodeStub,
  stubs.GroupNodeStub,
  stubs.ComponentNodeStub,
  stubs.InstanceNodeStub,
  stubs.BooleanOperationNodeStub,
  stubs.PageNodeStub,
] as unknown as Proto[];

type Matrix = [[number, number, number], [number, number, number]];
const multiply = (p: Matrix, c: Matrix): Matrix => [
  [
    p[0][0] * c[0][0] + p[0][1] * c[1][0],
    p[0][0] * c[0][1] + p[0][1] * c[1][1],
    p[0][0] * c[0][2] + p[0][1] * c[1][2] + p[0][2],
  ],
  [
    p[1][0] * c[0][0] + p[1][1] * c[1][0],
    p[1][0] * c[0][1] + p[1][1] * c[1][1],
    p[1][0] * c[0][2] + p[1][1] * c[1][2] + p[1][2],
  ],
];
/** The axis-aligned box around a local rectangle after a transform. */
function boundsOf(t: Matrix, x: number, y: number, w: number, h: number): Box {
  const pts = [
    [x, y],
    [x + w, y],
    [x, y + h],
    [x + w, y + h],
  ].map(([px, py]) => [t[0][0] * px + t[0][1] * py + t[0][2], t[1][0] * px + t[1][1] * py + t[1][2]]);
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const x0 = Math.min(...xs);
  const y0 = Math.min(...ys);
  return { x: x0, y: y0, width: Math.max(...xs) - x0, height: Math.max(...ys) - y0 };
}
function union(a: Box, b: Box): Box {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return {
    x,
    y,
    width: Math.max(a.x + a.width, b.x + b.width) - x,
    height: Math.max(a.y + a.height, b.y + b.height) - y,
  };
}
const isAutoLayout = (n: BaseNode | null) => !!n && "layoutMode" in n && (n as AnyNode).layoutMode !== "NONE";
function pageOf(n: BaseNode | null): BaseNode | null {
  while (n && n.type !== "PAGE") n = n.parent;
  return n;
}
function insideInstance(n: BaseNode | null): boolean {
  for (; n; n = n.parent) if (n.type === "INSTANCE") return true;
  return false;
}

function absoluteTransform(node: AnyNode): Matrix {
  const own = node.relativeTransform as unknown as Matrix;
  const parent = node.parent as BaseNode | null;
  if (!parent || parent.type === "PAGE" || parent.type === "DOCUMENT") return own;
  return multiply(absoluteTransform(parent as AnyNode), own);
}

/** What Figma draws for this node, in absolute coordinates (null when hidden). */
function renderBounds(node: AnyNode): Box | null {
  for (let n: BaseNode | null = node; n && n.type !== "PAGE"; n = n.parent) {
    if ((n as AnyNode).visible === false) return null;
  }
  return ownRenderBounds(node);
}
function ownRenderBounds(node: AnyNode): Box {
  const t = absoluteTransform(node);
  const w = node.width as number;
  const h = node.height as number;
  const weight = ((node.strokes as Paint[]) ?? []).length ? ((node.strokeWeight as number) ?? 1) : 0;
  const out = node.strokeAlign === "OUTSIDE" ? weight : node.strokeAlign === "CENTER" ? weight / 2 : 0;
  let box = boundsOf(t, -out, -out, w + 2 * out, h + 2 * out);
  for (const e of (node.effects as Effect[]) ?? []) {
    if (e.type !== "DROP_SHADOW" || e.visible === false) continue;
    const grow = e.radius + (e.spread ?? 0);
    box = union(box, {
      x: box.x + e.offset.x - grow,
      y: box.y + e.offset.y - grow,
      width: box.width + 2 * grow,
      height: box.height + 2 * grow,
    });
  }
  const clips = node.type !== "GROUP" && node.clipsContent === true;
  if ("children" in node && !clips) {
    for (const child of node.children as AnyNode[]) {
      if (child.visible !== false) box = union(box, ownRenderBounds(child));
    }
  }
  return box;
}

/** Auto-layout: lay the flow children out one after another, as Figma does after every change. */
function reflow(frame: AnyNode): void {
  const horizontal = frame.layoutMode === "HORIZONTAL";
  let at = ((horizontal ? frame.paddingLeft : frame.paddingTop) as number) ?? 0;
  for (const child of frame.children as AnyNode[]) {
    if (child.layoutPositioning === "ABSOLUTE" || child.visible === false) continue;
    const c = child as Loose;
    if (horizontal) {
      c._x = at;
      c._y = (frame.paddingTop as number) ?? 0;
    } else {
      c._x = (frame.paddingLeft as number) ?? 0;
      c._y = at;
    }
    at += ((horizontal ? child.width : child.height) as number) + (((frame.itemSpacing as number) ?? 0) as number);
  }
}

export function createFakeFigma(renderPng: RenderPng): FakeFigma {
  // the stub's selection events are a module singleton: drop listeners of earlier fakes
  (stubs.selectionChangeSubject as unknown as { observers: unknown[] }).observers.length = 0;
  const figma = createFigma({ simulateErrors: true }) as FakeFigma;
  const journal: JournalEntry[] = [];
  const images = new Map<string, Uint8Array>();
  const exports: { name: string; width: number; height: number }[] = [];
  const storage = new Map<string, unknown>();
  const closeHandlers = new Set<() => void>();
  let closed = false;
  let failIn = Number.POSITIVE_INFINITY;

  for (const cls of SCENE_CLASSES) {
    const proto = cls.prototype;
    proto.exportAsync = async function (this: AnyNode, settings?: ExportSettingsImage) {
      if (settings && settings.format !== "PNG") throw new Error("fake exportAsync only does PNG");
      const box = renderBounds(this);
      if (!box) throw new Error("fake: nothing to export, the node is hidden");
      const c = settings?.constraint ?? { type: "SCALE", value: 1 };
      const k = c.type === "WIDTH" ? c.value / box.width : c.type === "HEIGHT" ? c.value / box.height : c.value;
      const width = Math.max(1, Math.round(box.width * k));
      const height = Math.max(1, Math.round(box.height * k));
      exports.push({ name: this.name, width, height });
      // not Figma's rule (its limit is not documented): the test machine's, so a runaway size fails fast
      if (width * height > 64e6) throw new Error(`fake: refusing a ${width}×${height} px export`);
      return renderPng(this, width, height);
    };
    // x/y: ignored inside auto-layout unless absolutely positioned, as in Figma
    for (const [axis, key] of [
      ["x", "_x"],
      ["y", "_y"],
    ] as const) {
      Object.defineProperty(proto, axis, {
        configurable: true,
        get(this: Loose) {
          return (this[key] as number) ?? 0;
        },
        set(this: AnyNode, value: number) {
          if (isAutoLayout(this.parent) && this.layoutPositioning !== "ABSOLUTE") return;
          (this as Loose)[key] = value;
        },
      });
    }
    Object.defineProperty(proto, "absoluteTransform", {
      configurable: true,
      get(this: AnyNode) {
        return absoluteTransform(this);
      },
    });
    Object.defineProperty(proto, "absoluteBoundingBox", {
      configurable: true,
      get(this: AnyNode) {
        return boundsOf(absoluteTransform(this), 0, 0, this.width as number, this.height as number);
      },
    });
    Object.defineProperty(proto, "absoluteRenderBounds", {
      configurable: true,
      get(this: AnyNode) {
        return renderBounds(this);
      },
    });
    // Figma's relativeTransform; x/y/rotation stay consistent with it
    Object.defineProperty(proto, "relativeTransform", {
      configurable: true,
      get(this: AnyNode) {
        const t = (((this.rotation as number) ?? 0) * Math.PI) / 180;
        return [
          [Math.cos(t), Math.sin(t), this.x],
          [-Math.sin(t), Math.cos(t), this.y],
        ];
      },
      set(this: AnyNode, m: Transform) {
        if (Math.abs(m[0][0] * m[1][1] - m[0][1] * m[1][0] - 1) > 1e-6) throw new Error("fake: only rotations");
        this.x = m[0][2];
        this.y = m[1][2];
        this.rotation = (Math.atan2(-m[1][0], m[0][0]) * 180) / Math.PI + 0; // Figma: counter-clockwise degrees
      },
    });
    proto.setFillStyleIdAsync = async function (this: Loose, id: string) {
      this.fillStyleId = id;
    };
    proto.setStrokeStyleIdAsync = async function (this: Loose, id: string) {
      this.strokeStyleId = id;
    };
    const setRelaunchData = proto.setRelaunchData as ((d: Record<string, string>) => void) | undefined;
    proto.setRelaunchData = function (this: AnyNode, data: Record<string, string>) {
      for (const description of Object.values(data)) {
        if (description.length >= 1000) throw new Error("in setRelaunchData: description is too long (max 1000)");
      }
      if (setRelaunchData) setRelaunchData.call(this, data);
      else (this as Loose).relaunchData = data;
    };
  }

  /** Figma's rules for adding a child, checked before the stub's own insert. */
  const checkNewChild = (parent: BaseNode, child: SceneNode) => {
    if (closed) throw new Error("fake: the plugin is closed");
    if (insideInstance(parent)) {
      throw new Error("Cannot move node. New parent is an instance or is inside of an instance");
    }
    if (parent.type === "COMPONENT_SET" && child.type !== "COMPONENT") {
      throw new Error("Cannot move node. A component set can only contain components");
    }
    const page = pageOf(parent) as (BaseNode & { loaded?: boolean }) | null;
    if (page && page.loaded === false) {
      throw new Error(`The page “${page.name}” is not loaded. Call \`await page.loadAsync()\` first.`);
    }
  };
  for (const cls of CONTAINER_CLASSES) {
    const proto = cls.prototype;
    const insertChild = proto.insertChild as (i: number, c: SceneNode) => void;
    const appendChild = proto.appendChild as (c: SceneNode) => void;
    if ((insertChild as { fake?: boolean }).fake) continue; // patched by an earlier fake
    const afterChange = (parent: AnyNode, oldParent: AnyNode | null) => {
      if (isAutoLayout(parent)) reflow(parent);
      if (oldParent && oldParent !== parent && isAutoLayout(oldParent)) reflow(oldParent);
    };
    const patchedInsert = function (this: AnyNode, index: number, child: SceneNode) {
      checkNewChild(this, child);
      const oldParent = child.parent as AnyNode | null;
      // Figma moves a node that is already in this parent; the stub throws instead
      if (oldParent === this) {
        const at = (this.children as SceneNode[]).indexOf(child);
        (this as Loose).children = (this.children as SceneNode[]).filter((c) => c !== child);
        (child as unknown as Loose).parent = null;
        insertChild.call(this, at < index ? index - 1 : index, child);
      } else insertChild.call(this, index, child);
      afterChange(this, oldParent);
    };
    const patchedAppend = function (this: AnyNode, child: SceneNode) {
      checkNewChild(this, child);
      const oldParent = child.parent as AnyNode | null;
      appendChild.call(this, child);
      afterChange(this, oldParent);
    };
    (patchedInsert as { fake?: boolean }).fake = true;
    proto.insertChild = patchedInsert;
    proto.appendChild = patchedAppend;
  }
  for (const cls of SCENE_CLASSES) {
    const proto = cls.prototype;
    const remove = proto.remove as () => void;
    if ((remove as { fake?: boolean }).fake) continue;
    const patchedRemove = function (this: AnyNode) {
      const parent = this.parent as AnyNode | null;
      journal.push({ op: "remove", type: this.type, id: this.id });
      remove.call(this);
      if (parent && isAutoLayout(parent)) reflow(parent);
    };
    (patchedRemove as { fake?: boolean }).fake = true;
    proto.remove = patchedRemove;
  }

  // pages: only the current one starts loaded (dynamic-page)
  const pageProto = (stubs.PageNodeStub as unknown as Proto).prototype;
  pageProto.loadAsync = async function (this: Loose) {
    this.loaded = true;
  };
  (figma.currentPage as unknown as Loose).loaded = true;
  // searching a page needs it loaded (dynamic-page), and only ever searches that one page
  for (const name of ["findOne", "findAll"] as const) {
    const find = pageProto[name] as (cb: (n: SceneNode) => boolean) => unknown;
    if ((find as { fake?: boolean }).fake) continue;
    const patched = function (this: Loose, cb: (n: SceneNode) => boolean) {
      if (this.loaded === false) throw new Error(`in ${name}: the page is not loaded. Call loadAsync() first.`);
      return find.call(this, cb);
    };
    (patched as { fake?: boolean }).fake = true;
    pageProto[name] = patched;
  }
  const createPage = figma.createPage.bind(figma);
  figma.createPage = () => {
    const page = createPage();
    (page as unknown as Loose).loaded = false;
    return page;
  };
  figma.setCurrentPageAsync = async (page: PageNode) => {
    (page as unknown as Loose).loaded = true;
    figma.currentPage = page;
  };

  const created = <T extends SceneNode>(node: T, type?: string): T => {
    if (closed || --failIn < 0) {
      const parent = node.parent as unknown as { children: SceneNode[] };
      parent.children = parent.children.filter((c) => c !== node); // never existed, as far as tests see
      throw new Error(closed ? "fake: the plugin is closed" : "fake: creation failed");
    }
    const n = node as unknown as Loose;
    if (type) n.type = type;
    Object.assign(n, { x: 0, y: 0, width: 100, height: 100, rotation: 0, visible: true, opacity: 1, name: "" });
    Object.assign(n, { layoutPositioning: "AUTO", effects: [], strokeAlign: "INSIDE" });
    if (n.type === "FRAME") Object.assign(n, { layoutMode: "NONE", clipsContent: true, itemSpacing: 0 });
    for (const key of ["fills", "strokes"]) {
      // Figma validates paints on assignment; so does the fake (solid and linear gradient paints).
      let paints: readonly Paint[] = [];
      Object.defineProperty(n, key, {
        configurable: true,
        get: () => paints,
        set: (value: readonly Paint[]) => {
          for (const paint of value) checkPaint(paint, key);
          paints = value;
        },
      });
    }
    journal.push({ op: "create", type: node.type, id: node.id });
    return node;
  };
  const createRectangle = figma.createRectangle.bind(figma);
  const createFrame = figma.createFrame.bind(figma);
  figma.createRectangle = () => created(createRectangle());
  figma.createFrame = () => created(createFrame());
  figma.createEllipse = () => created(createRectangle(), "ELLIPSE") as unknown as EllipseNode;
  figma.createVector = () => {
    const v = created(createRectangle(), "VECTOR") as unknown as Loose;
    v.vectorPaths = [];
    return v as unknown as VectorNode;
  };
  const retype = <T extends SceneNode>(frame: FrameNode, type: T["type"]): T => {
    Object.setPrototypeOf(frame, (type === "INSTANCE" ? stubs.InstanceNodeStub : stubs.FrameNodeStub).prototype);
    (frame as unknown as Loose).type = type;
    return frame as unknown as T;
  };
  const createImage = figma.createImage.bind(figma);
  figma.createImage = (bytes: Uint8Array) => {
    if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) {
      throw new Error("fake: createImage got a view into a larger buffer; Figma would read all of it");
    }
    const img = createImage(bytes);
    images.set(img.hash, bytes);
    return img;
  };
  figma.commitUndo = () => {
    journal.push({ op: "commit" });
  };
  // documentAccess "dynamic-page" (our manifest) forbids the synchronous look-ups; tests use nodeById
  const nodeById = figma.getNodeById.bind(figma);
  figma.getNodeByIdAsync = async (id: string) => nodeById(id);
  const dynamicPage = (name: string) => () => {
    throw new Error(`Cannot call ${name} with documentAccess: dynamic-page. Use ${name}Async instead.`);
  };
  figma.getNodeById = dynamicPage("getNodeById");
  figma.getStyleById = dynamicPage("getStyleById");
  const paintStyles = figma.getLocalPaintStyles.bind(figma);
  figma.getLocalPaintStylesAsync = async () => paintStyles();
  figma.getLocalPaintStyles = dynamicPage("getLocalPaintStyles");
  // figma-api-stub has no variables API: a file without variables (tests can replace it)
  Object.defineProperty(figma, "variables", {
    configurable: true,
    writable: true,
    value: {
      getLocalVariablesAsync: async () => [],
      getVariableCollectionByIdAsync: async () => null,
      getVariableByIdAsync: async () => null,
    },
  });
  const on = figma.on.bind(figma) as (type: string, cb: () => void) => void;
  const off = (figma as unknown as { off?: (type: string, cb: () => void) => void }).off?.bind(figma);
  Object.assign(figma, {
    on(type: string, cb: () => void) {
      if (type === "close") closeHandlers.add(cb);
      else on(type, cb);
    },
    off(type: string, cb: () => void) {
      if (type === "close") closeHandlers.delete(cb);
      else off?.(type, cb);
    },
    /** Figma runs the close handlers, then stops the plugin: its timers never fire again. */
    closePlugin() {
      for (const cb of [...closeHandlers]) cb();
      closed = true;
    },
    journal,
    exports,
    images,
    storage,
    failCreationAfter: (n: number) => {
      failIn = n;
    },
    makeInstance: (frame: FrameNode) => retype<InstanceNode>(frame, "INSTANCE"),
    nodeById,
    retype,
    clientStorage: {
      getAsync: async (key: string) => (storage.has(key) ? structuredClone(storage.get(key)) : undefined),
      setAsync: async (key: string, value: unknown) => {
        storage.set(key, structuredClone(value));
      },
      deleteAsync: async (key: string) => {
        storage.delete(key);
      },
      keysAsync: async () => [...storage.keys()],
    },
  });
  Object.defineProperty(figma, "command", { value: "", writable: true, configurable: true });
  return figma;
}

const unit = (v: unknown) => typeof v === "number" && v >= 0 && v <= 1;
const rgb = (c: unknown, alpha: boolean) => {
  const o = c as Record<string, unknown> | undefined;
  return !!o && unit(o.r) && unit(o.g) && unit(o.b) && (alpha ? unit(o.a) : o.a === undefined);
};

/** Throws, as Figma does, for a paint it would refuse (the kinds the plugin makes). */
function checkPaint(paint: Paint, key: string): void {
  const bad = (why: string) => {
    throw new Error(`in set_${key}: ${why}`);
  };
  if (paint.opacity !== undefined && !unit(paint.opacity)) bad("opacity must be in 0..1");
  if (paint.type === "SOLID") {
    if (!rgb(paint.color, false)) bad("a solid paint's color needs r, g, b in 0..1 and no a");
  } else if (paint.type === "GRADIENT_LINEAR") {
    const m = paint.gradientTransform as unknown;
    const finiteRow = (r: unknown) => Array.isArray(r) && r.length === 3 && r.every((v) => Number.isFinite(v));
    if (!Array.isArray(m) || m.length !== 2 || !m.every(finiteRow)) bad("gradientTransform must be a 2×3 matrix");
    const stops = paint.gradientStops;
    if (!Array.isArray(stops) || stops.length < 2) bad("a gradient needs at least two stops");
    stops.forEach((st, i) => {
      if (!unit(st.position) || (i > 0 && st.position < stops[i - 1].position)) bad("stop positions must rise in 0..1");
      if (!rgb(st.color, true)) bad("a stop's color needs r, g, b, a in 0..1");
    });
  } else if (paint.type !== "IMAGE") bad(`the fake does not take ${paint.type} paints`);
}
