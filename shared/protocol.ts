// The one schema for everything that crosses the UI ⇄ companion WebSocket. Every message is
// parsed with these schemas on arrival (`parseClientMessage` / `parseServerMessage`); the TS
// types are inferred from them, so a field exists in exactly one place.
// Images never travel inside JSON: they follow as binary frames (see ./frames.ts) naming the
// job id and the part ("content", "style:0", "mask:0", "image", "focus", "preview", "result").
import * as v from "valibot";
import { ShapeListSchema, SHAPE_MODES, ShapeSchema, ColorSchema } from "./shapes";

export const PROTOCOL_VERSION = 1;
/** Default companion port. */
export const DEFAULT_PORT = 47615;
/**
 * The address the plugin connects to, exactly as manifest.json allows it: Figma's manifest rejects
 * IP literals, so it is `localhost` (the companion listens on both 127.0.0.1 and ::1 for it).
 */
export const DEFAULT_COMPANION_URL = `ws://localhost:${DEFAULT_PORT}`;

const id = v.pipe(v.string(), v.minLength(1), v.maxLength(64), v.regex(/^[A-Za-z0-9_-]+$/));
// Messages in plain words ("must be a whole number from 16 to 2048, not 0"): the CLI and the
// companion's errors show them as they are.
const range = (what: string, min: number, max: number) => (issue: { received: string }) =>
  `must be ${what} from ${min} to ${max}, not ${issue.received}`;
const int = (min: number, max: number) => {
  const says = range("a whole number", min, max);
  return v.pipe(v.number(says), v.integer(says), v.minValue(min, says), v.maxValue(max, says));
};
const real = (min: number, max: number) => {
  const says = range("a number", min, max);
  return v.pipe(v.number(says), v.finite(says), v.minValue(min, says), v.maxValue(max, says));
};

const hexColor = v.pipe(v.string(), v.regex(/^#?[0-9a-fA-F]{6}$/));

export const DEVICES = ["auto", "cpu", "webgpu", "cuda"] as const;
export type Device = (typeof DEVICES)[number];

// ---- job options (also the CLI's defaults, so the plugin and the CLI behave the same) ----

export const StyleOptionsSchema = v.object({
  size: v.optional(int(16, 2048), 512),
  /**
   * Over all scales, most at the coarsest (see companion/style/plan.ts). Defaults (100 iterations,
   * 3 scales at 512 px): a 512 px job costs about 20 full-size evaluations (`npm run bench:quality`).
   */
  iters: v.optional(int(1, 5000), 100),
  /**
   * Each scale above the coarsest gets at least this many of them: where the style's fine texture
   * is made (full-size iterations cost the most; the High preset raises it to 10).
   */
  detailIters: v.optional(int(1, 1000), 6),
  optimizer: v.optional(v.picklist(["lbfgs", "adam"]), "lbfgs"),
  /**
   * Loss weights. Each term is relative to its target's size (companion/style/graph/loss.ts), so a
   * weight means the same at any output size and for any picture: style 30 is 30× as much as
   * content 1 in relative terms, style 10 is visibly lighter, 100 is heavier.
   */
  contentWeight: v.optional(real(0, 1e12), 1),
  styleWeight: v.optional(real(0, 1e12), 30),
  tvWeight: v.optional(real(0, 1e12), 3e-4),
  /** One weight per style image; normalised by the engine. */
  styleBlend: v.optional(v.array(real(0, 1e6))),
  styleScale: v.optional(real(0.1, 4), 1),
  preserveColors: v.optional(v.boolean(), false),
  init: v.optional(v.picklist(["content", "noise"]), "content"),
  /** At most this many; the plan drops scales under 128 px, so by default 256 px gets 2, 512 px 3, 1024 px 4. */
  scales: v.optional(int(1, 5), 4),
  pooling: v.optional(v.picklist(["max", "avg"]), "max"),
  seed: v.optional(int(0, 2 ** 31 - 1), 0),
  device: v.optional(v.picklist(DEVICES), "auto"),
  /** Send a preview every k iterations (0 = only at scale changes and the end). */
  previewEvery: v.optional(int(0, 5000), 10),
});
export type StyleOptions = v.InferOutput<typeof StyleOptionsSchema>;

/** The most colours a primitives palette may have (the engine scores every entry per candidate). */
export const MAX_PALETTE = 256;

export const PrimitivesOptionsSchema = v.object({
  count: v.optional(int(1, 5000), 100),
  shape: v.optional(v.picklist(SHAPE_MODES), "triangle"),
  /** 1..255 fixed alpha; 0 = chosen per shape. */
  alpha: v.optional(int(0, 255), 128),
  workSize: v.optional(int(16, 1024), 256),
  /**
   * "avg" (the target's mean colour; transparent parts count as white), a hex colour like "#ffffff"
   * (transparent parts count as it), or "none": transparent parts stay empty and the result is
   * clipped by the layer's alpha (result.clip = "alpha"); for an opaque layer the same as "avg".
   */
  background: v.optional(v.union([v.literal("avg"), v.literal("none"), hexColor]), "avg"),
  seed: v.optional(int(0, 2 ** 31 - 1), 0),
  algorithm: v.optional(v.picklist(["hillclimb", "seed"]), "hillclimb"),
  /** Shape colours only from these ("#rrggbb"); absent or empty = any colour. */
  palette: v.optional(v.pipe(v.array(hexColor), v.maxLength(MAX_PALETTE))),
  /** How much more the error counts inside the focus mask (a job's "focus" part). */
  focusWeight: v.optional(real(1, 100), 16),
  /** "gradient": each shape gets a two-stop linear gradient (direction searched, stops solved); absent = "flat". */
  fill: v.optional(v.picklist(["flat", "gradient"])),
});
export type PrimitivesOptions = v.InferOutput<typeof PrimitivesOptionsSchema>;

// ---- client → server ----

export const ClientHelloSchema = v.object({
  type: v.literal("hello"),
  protocol: v.literal(PROTOCOL_VERSION),
  token: v.pipe(v.string(), v.maxLength(256)),
  client: v.optional(v.pipe(v.string(), v.maxLength(64))),
});

export const StyleJobSchema = v.object({
  type: v.literal("style"),
  id,
  options: StyleOptionsSchema,
  /** How many style images (binary parts "style:0".."style:n-1") follow. */
  styles: int(1, 8),
  /** Which styles come with a region mask (binary part "mask:i"). */
  masks: v.optional(v.array(int(0, 7)), []),
});

export const PrimitivesJobSchema = v.object({
  type: v.literal("primitives"),
  id,
  options: PrimitivesOptionsSchema,
  /** A focus mask (binary part "focus", white = detail matters) follows the image. */
  focus: v.optional(v.boolean(), false),
});

export const ClientMessageSchema = v.variant("type", [
  ClientHelloSchema,
  StyleJobSchema,
  PrimitivesJobSchema,
  v.object({ type: v.literal("cancel"), id }),
  v.object({ type: v.literal("ping"), t: v.optional(v.number()) }),
]);
export type ClientMessage = v.InferOutput<typeof ClientMessageSchema>;
export type StyleJob = v.InferOutput<typeof StyleJobSchema>;
export type PrimitivesJob = v.InferOutput<typeof PrimitivesJobSchema>;

// ---- server → client ----

export const ERROR_CODES = [
  "bad-message", // not JSON, unknown type, fails the schema, binary frame for no job
  "unauthorized", // missing or wrong pairing token
  "too-large", // message or image over the limits
  "bad-image", // unreadable / truncated / unsupported image
  "busy", // queue full or too many jobs for this client
  "weights-missing", // VGG-19 weights not installed
  "device-unavailable",
  "duplicate-job",
  "queue-unavailable", // scale-out mode: Redis is not answering
  "internal", // a bug: the job failed, the server goes on
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const DeviceInfoSchema = v.object({
  name: v.picklist(["cpu", "webgpu", "cuda"]),
  available: v.boolean(),
  reason: v.optional(v.string()),
  adapter: v.optional(v.string()),
  software: v.optional(v.boolean()),
});

export const ServerMessageSchema = v.variant("type", [
  v.object({
    type: v.literal("hello"),
    protocol: v.literal(PROTOCOL_VERSION),
    version: v.string(),
    devices: v.array(DeviceInfoSchema),
    weights: v.object({ installed: v.boolean(), path: v.optional(v.string()) }),
    limits: v.object({ maxMessageBytes: v.number(), maxImagePixels: v.number(), maxJobsPerClient: v.number() }),
  }),
  v.object({ type: v.literal("accepted"), id, position: int(0, 1e6) }),
  v.object({
    type: v.literal("progress"),
    id,
    /** Iterations or shapes done, of `total`. */
    done: v.number(),
    total: v.number(),
    /** Style: total loss; primitives: RMSE score 0..1. */
    value: v.number(),
    etaMs: v.optional(v.number()),
    /** Style only: the loss terms. */
    terms: v.optional(v.record(v.string(), v.number())),
    /** Style only: current scale (1-based) of `scales`. */
    scale: v.optional(v.number()),
    /** Style only: how many scales the run has. */
    scales: v.optional(v.number()),
  }),
  /** A PNG preview follows as the binary part "preview". */
  v.object({ type: v.literal("preview"), id, width: v.number(), height: v.number(), done: v.number() }),
  /** New shapes found since the last batch. `width/height/background` describe the working canvas. */
  v.object({
    type: v.literal("shapes"),
    id,
    width: v.number(),
    height: v.number(),
    background: ColorSchema,
    /** "alpha": the result will be clipped by the layer's alpha (ShapeList.clip). */
    clip: v.optional(v.literal("alpha")),
    /** Index of the first shape of this batch in the whole list. */
    from: v.number(),
    shapes: v.array(ShapeSchema),
    score: v.number(),
  }),
  v.variant("kind", [
    /** The styled PNG follows as the binary part "result". */
    v.object({
      type: v.literal("result"),
      kind: v.literal("style"),
      id,
      width: v.number(),
      height: v.number(),
      device: v.string(),
      /** Set when a GPU failed and the job ran (from some point on) on the CPU: why. */
      fallback: v.optional(v.string()),
      ms: v.number(),
    }),
    v.object({
      type: v.literal("result"),
      kind: v.literal("primitives"),
      id,
      result: ShapeListSchema,
      ms: v.number(),
    }),
  ]),
  v.object({
    type: v.literal("error"),
    id: v.optional(id),
    code: v.picklist(ERROR_CODES),
    message: v.string(),
    /** With a refused hello of another protocol version: the companion's own (plugin and companion differ). */
    protocol: v.optional(v.number()),
  }),
  v.object({ type: v.literal("cancelled"), id }),
  v.object({ type: v.literal("pong"), t: v.optional(v.number()) }),
  /** Something the designer should know about a running job (device fallback, random weights). */
  v.object({ type: v.literal("note"), id, message: v.string() }),
]);
export type ServerMessage = v.InferOutput<typeof ServerMessageSchema>;
export type ServerMessageOf<T extends ServerMessage["type"]> = Extract<ServerMessage, { type: T }>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Validate `data` against `schema`; on failure, report the first issue as "path: message". Never throws. */
export function parseWith<T>(schema: v.GenericSchema<unknown, T>, data: unknown): Parsed<T> {
  const r = v.safeParse(schema, data);
  if (r.success) return { ok: true, value: r.output };
  const issue = r.issues[0];
  const path = issue.path?.map((p) => String(p.key)).join(".") ?? "";
  return { ok: false, error: path ? `${path}: ${issue.message}` : issue.message };
}

/** Parse a text frame (JSON) from a client. Never throws. */
export function parseClientMessage(text: string): Parsed<ClientMessage> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, error: "message is not valid JSON" };
  }
  return parseWith(ClientMessageSchema, data);
}

/** Parse a text frame (JSON) from the companion. Never throws. */
export function parseServerMessage(text: string): Parsed<ServerMessage> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, error: "message is not valid JSON" };
  }
  return parseWith(ServerMessageSchema, data);
}
