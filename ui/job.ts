// One job on the companion, from sending its images to its one outcome. Collects the streamed
// shapes (so a cancelled primitives job can still insert what was found) and style previews.
import { fallbackNote } from "../shared/devices";
import * as v from "valibot";
import type { FrameHeader } from "../shared/frames";
import {
  type ClientMessage,
  type ErrorCode,
  type PrimitivesOptions,
  PrimitivesOptionsSchema,
  type ServerMessage,
  type StyleOptions,
  StyleOptionsSchema,
} from "../shared/protocol";
import type { Color, Shape, ShapeList } from "../shared/shapes";

export type JobRequest =
  | {
      kind: "primitives";
      options: Partial<PrimitivesOptions>;
      image: Uint8Array;
      /** Focus mask PNG (white = detail matters), any size. */
      focus?: Uint8Array;
    }
  | {
      kind: "style";
      options: Partial<StyleOptions>;
      content: Uint8Array;
      styles: Uint8Array[];
      /** Region mask (white = subject) for style 0. */
      mask?: Uint8Array;
    };

export type Progress = { done: number; total: number; value: number; etaMs?: number };
export type Canvas = { width: number; height: number; background: Color; clip?: "alpha"; shapes: Shape[] };

export type JobOutcome =
  | { kind: "style"; png: Uint8Array; width: number; height: number; ms: number; device: string }
  | { kind: "primitives"; result: ShapeList; ms: number }
  | { kind: "cancelled"; partial: ShapeList | null }
  | { kind: "failed"; code: ErrorCode | "disconnected"; message: string; partial: ShapeList | null };

export type JobListener = {
  onProgress?(p: Progress): void;
  onPreview?(png: Uint8Array, width: number, height: number): void;
  onShapes?(canvas: Canvas, added: Shape[]): void;
  /** Something the designer should know, e.g. "random weights: output is not artistic" or a GPU fallback. */
  onNote?(message: string): void;
};

/** What the job needs from the connection (CompanionClient provides it). */
export interface JobChannel {
  /** True for the engine running inside the plugin (no companion, so no connection to lose). */
  readonly inPlugin?: boolean;
  send(msg: ClientMessage): void;
  sendFrame(header: FrameHeader, payload: Uint8Array): void;
  /** The largest message the companion accepts (its hello's limits); absent: no limit. */
  readonly maxMessageBytes?: number;
}

/** Room for a binary frame's length and JSON header ({"id","part"}) beside its image. */
const FRAME_OVERHEAD = 512;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

export const newJobId = () => `j${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

export class Job {
  readonly id = newJobId();
  private canvas: Canvas | null = null;
  private pendingResult: Extract<ServerMessage, { type: "result"; kind: "style" }> | null = null;
  /** Notes received, so that a fallback named again in the result is not shown twice. */
  private readonly notes = new Set<string>();
  private pendingPreview: { width: number; height: number } | null = null;
  private settle!: (o: JobOutcome) => void;
  private finished = false;
  private cancelRequested = false;
  readonly outcome: Promise<JobOutcome>;
  private readonly startedAt = Date.now();

  constructor(
    private readonly channel: JobChannel,
    readonly request: JobRequest,
    private readonly listener: JobListener = {},
  ) {
    this.outcome = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  /**
   * Refuses, before anything is sent, an image larger than the companion accepts: it would close
   * the connection, and every retry would fail the same way.
   */
  private checkSizes(parts: [string, Uint8Array | undefined][]): void {
    const max = this.channel.maxMessageBytes;
    if (max === undefined) return;
    for (const [what, bytes] of parts) {
      if (bytes && bytes.length + FRAME_OVERHEAD > max) {
        throw new Error(
          `${what} is too large to send to the companion (${mb(bytes.length)}; it accepts up to ${mb(max)}). ` +
            "Use a smaller picture, or start the companion with a larger --max-message-mb.",
        );
      }
    }
  }

  /** Send the job and its images; throws if the companion is not connected or an image is too large for it. */
  start(): void {
    const r = this.request;
    if (r.kind === "primitives") {
      // defaults filled and limits checked here, so a bad option fails before anything is sent
      const options = v.parse(PrimitivesOptionsSchema, r.options);
      this.checkSizes([
        ["The layer's image", r.image],
        ["The focus layer's image", r.focus],
      ]);
      this.channel.send({ type: "primitives", id: this.id, options, focus: !!r.focus });
      this.channel.sendFrame({ id: this.id, part: "image" }, r.image);
      if (r.focus) this.channel.sendFrame({ id: this.id, part: "focus" }, r.focus);
      return;
    }
    const masks = r.mask ? [0] : [];
    const options = v.parse(StyleOptionsSchema, r.options);
    const several = r.styles.length > 1;
    this.checkSizes([
      ["The layer's image", r.content],
      ...r.styles.map((png, i): [string, Uint8Array] => [`The style image${several ? ` ${i + 1}` : ""}`, png]),
      ["The region layer's image", r.mask],
    ]);
    this.channel.send({ type: "style", id: this.id, options, styles: r.styles.length, masks });
    this.channel.sendFrame({ id: this.id, part: "content" }, r.content);
    for (const [i, png] of r.styles.entries()) this.channel.sendFrame({ id: this.id, part: `style:${i}` }, png);
    if (r.mask) this.channel.sendFrame({ id: this.id, part: "mask:0" }, r.mask);
  }

  cancel(): void {
    if (this.finished) return;
    this.cancelRequested = true;
    try {
      this.channel.send({ type: "cancel", id: this.id });
    } catch {
      this.finish({ kind: "cancelled", partial: this.partial() });
    }
  }

  /** The connection dropped: the companion forgets the job, so it failed. */
  disconnected(): void {
    this.finish({
      kind: "failed",
      code: "disconnected",
      message: "Lost the connection to the companion.",
      partial: this.partial(),
    });
  }

  onMessage(msg: ServerMessage): void {
    if (this.finished || !("id" in msg) || msg.id !== this.id) return;
    switch (msg.type) {
      case "progress": {
        const etaMs = msg.etaMs ?? estimateEta(Date.now() - this.startedAt, msg.done, msg.total);
        this.listener.onProgress?.({ done: msg.done, total: msg.total, value: msg.value, etaMs });
        return;
      }
      case "preview":
        this.pendingPreview = { width: msg.width, height: msg.height };
        return;
      case "shapes": {
        const c = this.canvas ?? { width: msg.width, height: msg.height, background: msg.background, shapes: [] };
        c.background = msg.background;
        if (msg.clip) c.clip = msg.clip;
        c.shapes.length = Math.min(c.shapes.length, msg.from);
        c.shapes.push(...msg.shapes);
        this.canvas = c;
        this.listener.onShapes?.(c, msg.shapes);
        return;
      }
      case "result":
        if (msg.kind === "primitives") this.finish({ kind: "primitives", result: msg.result, ms: msg.ms });
        else this.pendingResult = msg; // the PNG follows as a binary part
        return;
      case "cancelled":
        // not asked for: the companion is shutting down (it cancels everything on its way out)
        if (!this.cancelRequested) {
          const message = "The companion stopped this job (it was shut down or restarted).";
          this.finish({ kind: "failed", code: "disconnected", message, partial: this.partial() });
        } else this.finish({ kind: "cancelled", partial: this.partial() });
        return;
      case "error":
        this.finish({ kind: "failed", code: msg.code, message: msg.message, partial: this.partial() });
        return;
      case "note":
        this.notes.add(msg.message);
        this.listener.onNote?.(msg.message);
        return;
    }
  }

  onFrame(header: FrameHeader, payload: Uint8Array): void {
    if (this.finished || header.id !== this.id) return;
    if (header.part === "preview" && this.pendingPreview) {
      this.listener.onPreview?.(payload, this.pendingPreview.width, this.pendingPreview.height);
    } else if (header.part === "result" && this.pendingResult) {
      const r = this.pendingResult;
      // A GPU that failed is said where the designer looks, even if its note was missed.
      const cpuNote = r.fallback && fallbackNote(r.fallback);
      if (cpuNote && !this.notes.has(cpuNote)) this.listener.onNote?.(cpuNote);
      this.finish({ kind: "style", png: payload, width: r.width, height: r.height, ms: r.ms, device: r.device });
    }
  }

  get inPlugin(): boolean {
    return !!this.channel.inPlugin;
  }

  get done(): boolean {
    return this.finished;
  }

  private partial(): ShapeList | null {
    const c = this.canvas;
    if (!c || c.shapes.length === 0) return null;
    const clip = c.clip ? { clip: c.clip } : {};
    return { width: c.width, height: c.height, background: c.background, ...clip, shapes: [...c.shapes] };
  }

  private finish(o: JobOutcome): void {
    if (this.finished) return;
    this.finished = true;
    this.settle(o);
  }
}

/** Remaining time from the pace so far; undefined until there is a pace to go by. */
export function estimateEta(elapsedMs: number, done: number, total: number): number | undefined {
  if (done <= 0 || total <= done) return done >= total ? 0 : undefined;
  return (elapsedMs / done) * (total - done);
}
