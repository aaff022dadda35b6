// Binary WebSocket frames carry images without base64. Layout:
//   [u32 big-endian header length][UTF-8 JSON header {"id","part"}][payload bytes]
// Works the same in the browser (UI) and in Node (companion): only Uint8Array/DataView.
import * as v from "valibot";

export const FrameHeaderSchema = v.object({
  id: v.pipe(v.string(), v.minLength(1), v.maxLength(64), v.regex(/^[A-Za-z0-9_-]+$/)),
  /** "content", "style:0", "mask:0", "image", "focus", "preview", "result" */
  part: v.pipe(v.string(), v.regex(/^(content|image|focus|preview|result|style:[0-7]|mask:[0-7])$/)),
});
export type FrameHeader = v.InferOutput<typeof FrameHeaderSchema>;

const MAX_HEADER_BYTES = 1024;

export function encodeFrame(header: FrameHeader, payload: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(4 + head.length + payload.length);
  new DataView(out.buffer).setUint32(0, head.length, false);
  out.set(head, 4);
  out.set(payload, 4 + head.length);
  return out;
}

export type DecodedFrame = { ok: true; header: FrameHeader; payload: Uint8Array } | { ok: false; error: string };

/** Split a binary frame into its header and payload. Never throws. */
export function decodeFrame(frame: Uint8Array): DecodedFrame {
  if (frame.length < 4) return { ok: false, error: "binary frame too short" };
  const headLen = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0, false);
  if (headLen === 0 || headLen > MAX_HEADER_BYTES || 4 + headLen > frame.length) {
    return { ok: false, error: "binary frame header length is invalid" };
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(frame.subarray(4, 4 + headLen)));
  } catch {
    return { ok: false, error: "binary frame header is not valid JSON" };
  }
  const r = v.safeParse(FrameHeaderSchema, json);
  if (!r.success) return { ok: false, error: `binary frame header: ${r.issues[0].message}` };
  return { ok: true, header: r.output, payload: frame.subarray(4 + headLen) };
}
