/// <reference types="@figma/plugin-typings" />
// figma-api-stub (a community stub of the plugin API) plus small, honest fakes for what it lacks
// and the plugin needs: createEllipse/createVector (stub rectangles retyped), x/y/size defaults
// and relativeTransform, exportAsync (renders through an injected PNG maker), clientStorage,
// commitUndo, getNodeByIdAsync, absoluteBoundingBox. A journal records creations, removals and
// undo commits so tests can check "one undo step" and "nothing left on failure".
// Runs in Node (unit tests) and in the browser (the e2e harness bundles it).
import { createFigma } from "figma-api-stub";
import * as stubs from "figma-api-stub/dist/componentStubs";

export type RenderPng = (node: SceneNode, width: number, height: number) => Promise<Uint8Array>;
export type JournalEntry = { op: "create" | "remove"; type: string; id: string } | { op: "commit" };

export type FakeFigma = PluginAPI & {
  journal: JournalEntry[];
  images: Map<string, Uint8Array>;
  storage: Map<string, unknown>;
  /** Make the n-th node creation from now throw (to test clean-up). */
  failCreationAfter(n: number): void;
};

type AnyNode = SceneNode & Record<string, unknown>;
/** Write access to what the real API marks read-only (the fake has to set it). */
type Loose = Record<string, unknown>;

const CLASSES = [
  stubs.RectangleNodeStub,
  stubs.FrameNodeStub,
  stubs.GroupNodeStub,
  stubs.ComponentNodeStub,
  stubs.InstanceNodeStub,
  stubs.TextNodeStub,
] as unknown as { prototype: Record<string, unknown> }[];

export function createFakeFigma(renderPng: RenderPng): FakeFigma {
  // the stub's selection events are a module singleton: drop listeners of earlier fakes
  (stubs.selectionChangeSubject as unknown as { observers: unknown[] }).observers.length = 0;
  const figma = createFigma({ simulateErrors: true }) as FakeFigma;
  const journal: JournalEntry[] = [];
  const images = new Map<string, Uint8Array>();
  const storage = new Map<string, unknown>();
  let failIn = Number.POSITIVE_INFINITY;

  for (const cls of CLASSES) {
    const proto = cls.prototype;
    proto.exportAsync = async function (this: AnyNode, settings?: ExportSettingsImage) {
      if (settings && settings.format !== "PNG") throw new Error("fake exportAsync only does PNG");
      const w = this.width as number;
      const h = this.height as number;
      const c = settings?.constraint ?? { type: "SCALE", value: 1 };
      const k = c.type === "WIDTH" ? c.value / w : c.type === "HEIGHT" ? c.value / h : c.value;
      return renderPng(this, Math.max(1, Math.round(w * k)), Math.max(1, Math.round(h * k)));
    };
    Object.defineProperty(proto, "absoluteBoundingBox", {
      configurable: true,
      get(this: AnyNode) {
        let x = 0;
        let y = 0;
        for (let n: BaseNode | null = this; n && n.type !== "PAGE"; n = n.parent) {
          x += (n as AnyNode).x as number;
          y += (n as AnyNode).y as number;
        }
        return { x, y, width: this.width, height: this.height };
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
    // Figma moves a node that is already in this parent; the stub throws instead
    const insertChild = proto.insertChild as ((i: number, c: SceneNode) => void) | undefined;
    if (insertChild && !(insertChild as { fake?: boolean }).fake) {
      const patched = function (this: ChildrenMixin, index: number, child: SceneNode) {
        if (child.parent === (this as unknown)) {
          const at = this.children.indexOf(child);
          child.remove();
          (child as unknown as Loose).removed = false;
          insertChild.call(this, at < index ? index - 1 : index, child);
          return;
        }
        insertChild.call(this, index, child);
      };
      (patched as { fake?: boolean }).fake = true;
      proto.insertChild = patched;
    }
    const remove = proto.remove as () => void;
    if (!(remove as { fake?: boolean }).fake) {
      const patchedRemove = function (this: AnyNode) {
        journal.push({ op: "remove", type: this.type, id: this.id });
        remove.call(this);
      };
      (patchedRemove as { fake?: boolean }).fake = true;
      proto.remove = patchedRemove;
    }
  }

  const created = <T extends SceneNode>(node: T, type?: string): T => {
    if (--failIn < 0) {
      const parent = node.parent as unknown as { children: SceneNode[] };
      parent.children = parent.children.filter((c) => c !== node); // never existed, as far as tests see
      throw new Error("fake: creation failed");
    }
    const n = node as unknown as Loose;
    if (type) n.type = type;
    Object.assign(n, { x: 0, y: 0, width: 100, height: 100, rotation: 0, visible: true, opacity: 1, name: "" });
    n.strokes = [];
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
  const createImage = figma.createImage.bind(figma);
  figma.createImage = (bytes: Uint8Array) => {
    const img = createImage(bytes);
    images.set(img.hash, bytes);
    return img;
  };
  figma.commitUndo = () => {
    journal.push({ op: "commit" });
  };
  figma.getNodeByIdAsync = async (id: string) => figma.getNodeById(id);
  Object.assign(figma, {
    journal,
    images,
    storage,
    failCreationAfter: (n: number) => {
      failIn = n;
    },
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
