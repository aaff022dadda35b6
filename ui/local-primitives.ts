// Primitives inside the plugin, for when no companion is connected: a stand-in for the companion
// connection (the same JobChannel, answering with the same protocol messages) that runs the shared
// engine on a Web Worker pool. So Job and Runner treat both alike: preview, progress, cancel and
// "insert the shapes found so far" work the same.
import type { FrameHeader } from "../shared/frames";
import { createSession, type WorkImage, workSizeOf } from "../shared/primitives/session";
import { streamPrimitives } from "../shared/primitives/stream";
import type { ClientMessage, PrimitivesOptions, ServerMessage } from "../shared/protocol";
import type { JobChannel } from "./job";
import { STYLE_NEEDS_COMPANION } from "./messages";
import { startWebWorkerPool } from "./worker-pool";

/** More workers than a step's climbs (8) would idle. */
const MAX_WORKERS = 8;

export class LocalPrimitives implements JobChannel {
  readonly inPlugin = true;
  private waiting: { id: string; options: PrimitivesOptions; focus: boolean; parts: Map<string, Uint8Array> } | null =
    null;
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly onMessage: (msg: ServerMessage) => void) {}

  send(msg: ClientMessage): void {
    if (msg.type === "primitives")
      this.waiting = { id: msg.id, options: msg.options, focus: msg.focus, parts: new Map() };
    else if (msg.type === "cancel") this.running.get(msg.id)?.abort();
    else throw new Error(STYLE_NEEDS_COMPANION);
  }

  sendFrame(header: FrameHeader, payload: Uint8Array): void {
    const job = this.waiting;
    if (!job || header.id !== job.id || !(header.part === "image" || (job.focus && header.part === "focus"))) return;
    job.parts.set(header.part, payload);
    if (job.parts.size < (job.focus ? 2 : 1)) return;
    this.waiting = null;
    void this.run(job.id, job.options, job.parts.get("image")!, job.parts.get("focus"));
  }

  private async run(id: string, options: PrimitivesOptions, png: Uint8Array, focusPng?: Uint8Array): Promise<void> {
    const abort = new AbortController();
    this.running.set(id, abort);
    try {
      let work: WorkImage;
      let focus: WorkImage | undefined;
      try {
        work = await decodeAtWorkSize(png, options.workSize);
        if (focusPng) focus = await decodeAtWorkSize(focusPng, options.workSize, work);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.onMessage({ type: "error", id, code: "bad-image", message });
        return;
      }
      const workers = Math.max(1, Math.min(MAX_WORKERS, navigator.hardwareConcurrency || 2));
      const run = { workers, startPool: startWebWorkerPool, signal: abort.signal, focus };
      const session = await createSession(work, options, run);
      try {
        const done = await streamPrimitives(session, id, options, this.onMessage, abort.signal);
        if (!done) this.onMessage({ type: "cancelled", id });
      } finally {
        await session.close();
      }
    } catch (err) {
      if (abort.signal.aborted) this.onMessage({ type: "cancelled", id });
      else
        this.onMessage({
          type: "error",
          id,
          code: "internal",
          message: err instanceof Error ? err.message : String(err),
        });
    } finally {
      this.running.delete(id);
    }
  }
}

/**
 * Decodes a PNG with the browser, resized to the working size (longest side `workSize`), or
 * stretched to exactly `size` (a focus mask onto its target).
 */
export async function decodeAtWorkSize(
  png: Uint8Array,
  workSize: number,
  size?: { width: number; height: number },
): Promise<WorkImage> {
  const blob = new Blob([png as BlobPart], { type: "image/png" });
  const plain = { premultiplyAlpha: "none", colorSpaceConversion: "none" } as const;
  let bitmap = await createImageBitmap(blob, plain);
  const { width, height } = size ?? workSizeOf(bitmap.width, bitmap.height, workSize);
  if (width !== bitmap.width || height !== bitmap.height) {
    bitmap.close();
    bitmap = await createImageBitmap(blob, {
      ...plain,
      resizeWidth: width,
      resizeHeight: height,
      resizeQuality: "high",
    });
  }
  const ctx = new OffscreenCanvas(width, height).getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("no 2D canvas");
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return { width, height, data: ctx.getImageData(0, 0, width, height).data };
}
