// The one schema for everything that crosses the plugin (Figma sandbox) ⇄ UI (iframe) postMessage
// channel. Both sides parse every incoming message with `parseUiMessage` / `parsePluginMessage`;
// the TS types are inferred from the schemas, so a field exists in exactly one place.
// Images travel as Uint8Array (postMessage clones them; no base64).
import * as v from "valibot";
import {
  DEFAULT_COMPANION_URL,
  DEFAULT_PORT,
  type Parsed,
  PrimitivesOptionsSchema,
  parseWith,
  StyleOptionsSchema,
  type StyleOptions,
} from "./protocol";
import { ShapeListSchema } from "./shapes";

/** Image bytes in a buffer of their own: Figma reads a view's whole underlying buffer (send `.slice()`). */
const bytes = v.custom<Uint8Array>(
  (x) => x instanceof Uint8Array && x.byteOffset === 0 && x.byteLength === x.buffer.byteLength,
  "expected image bytes as a Uint8Array with a buffer of its own",
);
const nodeId = v.pipe(v.string(), v.minLength(1), v.maxLength(200));
const requestId = v.pipe(v.string(), v.minLength(1), v.maxLength(64), v.regex(/^[A-Za-z0-9_-]+$/));
const size = v.pipe(v.number(), v.finite(), v.minValue(0));
/** The longest style name the plugin takes (the UI shortens longer ones). */
export const STYLE_NAME_MAX = 200;

export const MODES = ["style", "primitives"] as const;
/** What a picked layer is for: a style image, the style's region mask, the primitives' focus. */
export const LAYER_ROLES = ["style", "mask", "focus"] as const;
export type Mode = (typeof MODES)[number];
export const PRESETS = ["draft", "standard", "high", "custom"] as const;
export type Preset = (typeof PRESETS)[number];

// Before issue 9 the default was an IP literal, which Figma's network policy now blocks.
const OLD_DEFAULT_URL = new RegExp(`^ws://(127\\.0\\.0\\.1|\\[::1\\]):${DEFAULT_PORT}/?$`);
/** A stored address that is the old default (a loopback IP literal) becomes today's default; others stay. */
export function migrateCompanionUrl(url: string): string {
  return OLD_DEFAULT_URL.test(url) ? DEFAULT_COMPANION_URL : url;
}

// Before issue 10 the style loss terms were absolute and the default weights content 5, style 100,
// TV 1e-3; stored settings carry all three. Exactly those become today's defaults; anything else was
// a deliberate choice and stays.
const OLD_LOSS_DEFAULTS = { contentWeight: 5, styleWeight: 100, tvWeight: 1e-3 } as const;
/** Style options still holding the old default loss weights get today's defaults. */
const LOSS_DEFAULTS = v.parse(StyleOptionsSchema, {});
export function migrateLossWeights(o: StyleOptions): StyleOptions {
  const keys = Object.keys(OLD_LOSS_DEFAULTS) as (keyof typeof OLD_LOSS_DEFAULTS)[];
  if (!keys.every((k) => o[k] === OLD_LOSS_DEFAULTS[k])) return o;
  const { contentWeight, styleWeight, tvWeight } = LOSS_DEFAULTS;
  return { ...o, contentWeight, styleWeight, tvWeight };
}

/** How a job runs: the part of the settings that may be stored on results in the document. */
const jobEntries = {
  mode: v.optional(v.picklist(MODES), "primitives"),
  preset: v.optional(v.picklist(PRESETS), "standard"),
  style: v.optional(v.pipe(StyleOptionsSchema, v.transform(migrateLossWeights)), {}),
  primitives: v.optional(PrimitivesOptionsSchema, {}),
};
export const JobSettingsSchema = v.object(jobEntries);
export type JobSettings = v.InferOutput<typeof JobSettingsSchema>;

/**
 * What the designer chose, persisted per user in figma.clientStorage. The token and address stay
 * there: only `jobSettings(...)` goes into the document ("Stylize again"), which others can read.
 */
export const SettingsSchema = v.object({
  ...jobEntries,
  /** Pairing token shown by the companion (`npm start` prints it). */
  token: v.optional(v.pipe(v.string(), v.maxLength(256)), ""),
  /** The companion's address; the manifest only allows the default, tests point it elsewhere. */
  companionUrl: v.optional(
    v.pipe(v.string(), v.regex(/^wss?:\/\/[^\s]+$/), v.transform(migrateCompanionUrl)),
    DEFAULT_COMPANION_URL,
  ),
});
export type Settings = v.InferOutput<typeof SettingsSchema>;
export const defaultSettings = (): Settings => v.parse(SettingsSchema, {});
/** The settings without the pairing token and companion address. */
export const jobSettings = ({ mode, preset, style, primitives }: JobSettings): JobSettings => ({
  mode,
  preset,
  style,
  primitives,
});

/** A colour style or colour variable of the file, offered as a palette colour. */
export const PaletteEntrySchema = v.object({
  kind: v.picklist(["style", "variable"]),
  id: nodeId,
  name: v.string(),
  hex: v.pipe(v.string(), v.regex(/^#[0-9a-f]{6}$/)),
});
export type PaletteEntry = v.InferOutput<typeof PaletteEntrySchema>;

/** A layer as the UI needs to know it. */
export const LayerInfoSchema = v.object({ id: nodeId, name: v.string(), type: v.string(), width: size, height: size });
export type LayerInfo = v.InferOutput<typeof LayerInfoSchema>;

/** The most layers one run (a batch) takes. */
export const MAX_BATCH = 100;

export const SelectionSchema = v.variant("ok", [
  /** One layer, or several (a batch: one result each) in reading order, top row first, left to right. */
  v.object({ ok: v.literal(true), layers: v.pipe(v.array(LayerInfoSchema), v.minLength(1), v.maxLength(MAX_BATCH)) }),
  v.object({ ok: v.literal(false), reason: v.picklist(["none", "multiple"]), hint: v.string() }),
]);
export type Selection = v.InferOutput<typeof SelectionSchema>;

// ---- UI → plugin ----

export const UiMessageSchema = v.variant("type", [
  /** The UI is listening: the plugin answers with `init` and the selection. */
  v.object({ type: v.literal("ui-ready") }),
  v.object({ type: v.literal("save-settings"), settings: SettingsSchema }),
  /** Remember the currently selected layer as the style image, the region mask or the primitives focus. */
  v.object({ type: v.literal("pick-layer"), role: v.picklist(LAYER_ROLES) }),
  /**
   * Export what a job needs: the source layer as content, sized so its longest side is `workSize`,
   * plus the style/mask layers the designer picked (by id). The source is `sourceId` (a batch names
   * each of its layers), or else the one selected layer.
   */
  v.object({
    type: v.literal("prepare-job"),
    requestId,
    sourceId: v.optional(nodeId),
    workSize: v.pipe(v.number(), v.integer(), v.minValue(16), v.maxValue(4096)),
    styleLayerIds: v.optional(v.array(nodeId), []),
    maskLayerId: v.optional(nodeId),
  }),
  /** The file's local colour styles and colour variables (opaque solid colours), for a primitives palette. */
  v.object({ type: v.literal("get-colour-styles"), requestId }),
  v.object({
    type: v.literal("insert-style"),
    requestId,
    sourceId: nodeId,
    styleName: v.pipe(v.string(), v.maxLength(STYLE_NAME_MAX)),
    png: bytes,
    settings: JobSettingsSchema,
  }),
  v.object({
    type: v.literal("insert-primitives"),
    requestId,
    sourceId: nodeId,
    result: ShapeListSchema,
    /** True when these are the shapes found before a cancel. */
    partial: v.optional(v.boolean(), false),
    settings: JobSettingsSchema,
    /** "Stylize as shapes": the shapes rebuild a painting in these styles (named in the frame's name). */
    styleName: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(STYLE_NAME_MAX))),
  }),
]);
export type UiMessage = v.InferOutput<typeof UiMessageSchema>;
export type UiMessageOf<T extends UiMessage["type"]> = Extract<UiMessage, { type: T }>;

// ---- plugin → UI ----

export const PluginMessageSchema = v.variant("type", [
  v.object({
    type: v.literal("init"),
    settings: SettingsSchema,
    /** Set when launched from a result's "Stylize again" button: the settings that made it. */
    relaunch: v.optional(JobSettingsSchema),
    /** "Stylize again" from a result whose source layer is gone (deleted, or in another file). */
    relaunchSourceGone: v.optional(v.boolean()),
  }),
  v.object({ type: v.literal("selection"), selection: SelectionSchema }),
  v.object({ type: v.literal("picked-layer"), role: v.picklist(LAYER_ROLES), layer: LayerInfoSchema }),
  v.object({
    type: v.literal("job-images"),
    requestId,
    source: LayerInfoSchema,
    content: bytes,
    styles: v.array(v.object({ layer: LayerInfoSchema, png: bytes })),
    /** The mask layer exported on its own, with its box relative to the source (source units). */
    mask: v.optional(
      v.object({
        png: bytes,
        x: v.pipe(v.number(), v.finite()),
        y: v.pipe(v.number(), v.finite()),
        width: size,
        height: size,
      }),
    ),
  }),
  v.object({
    type: v.literal("colour-styles"),
    requestId,
    styles: v.array(PaletteEntrySchema),
  }),
  v.object({ type: v.literal("insert-progress"), requestId, done: v.number(), total: v.number() }),
  v.object({ type: v.literal("inserted"), requestId, nodeId, name: v.string(), count: v.number() }),
  /** A request failed; `message` is for the designer. Nothing on the canvas changed. */
  v.object({ type: v.literal("plugin-error"), requestId: v.optional(requestId), message: v.string() }),
]);
export type PluginMessage = v.InferOutput<typeof PluginMessageSchema>;
export type PluginMessageOf<T extends PluginMessage["type"]> = Extract<PluginMessage, { type: T }>;

export type { Parsed };

/** Parse a message the UI sent to the plugin. Never throws. */
export const parseUiMessage = (data: unknown): Parsed<UiMessage> => parseWith(UiMessageSchema, data);
/** Parse a message the plugin sent to the UI. Never throws. */
export const parsePluginMessage = (data: unknown): Parsed<PluginMessage> => parseWith(PluginMessageSchema, data);
/** The request id of a message that failed the schema, if it carries a usable one: the refusal answers it. */
export function requestIdOf(data: unknown): string | undefined {
  const r = v.safeParse(v.object({ requestId }), data);
  return r.success ? r.output.requestId : undefined;
}
/** Settings from storage or a node may be stale or hand-edited: fall back to defaults field by field. */
export function parseSettings(data: unknown): Settings {
  const r = v.safeParse(SettingsSchema, data ?? {});
  if (r.success) return r.output;
  if (typeof data !== "object" || data === null) return defaultSettings();
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (v.safeParse(SettingsSchema, { [key]: value }).success) kept[key] = value;
  }
  return v.parse(SettingsSchema, kept);
}
