// Every image decode/resize/encode goes through here (sharp), so limits and messages are uniform.
import { statSync } from "node:fs";
import sharp, { type Metadata } from "sharp";
import { UserError } from "./errors";

/** RGBA, 8 bits per channel, row-major. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Refuse anything larger before decoding pixels (decompression bombs). ~ 8K x 8K. */
export const DEFAULT_MAX_INPUT_PIXELS = 8192 * 8192;

export interface LoadOptions {
  /** Resize so the longest side is this many pixels (keeps aspect ratio). */
  maxSide?: number;
  /** With maxSide: also enlarge smaller images to it (style transfer works at a fixed size). */
  enlarge?: boolean;
  /** Refuse inputs with more pixels than this, checked from the header before decoding. */
  maxInputPixels?: number;
  /** What the bytes are, for messages ("style image 2"); a path names itself. */
  name?: string;
}

/** Decode a file path or encoded bytes (PNG, JPEG, WebP…) to RGBA, with clear errors. */
export async function loadImage(input: string | Uint8Array, opts: LoadOptions = {}): Promise<RgbaImage> {
  const limit = opts.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  const what = whatOf(input, opts.name);
  await readHeader(input, limit, what);
  try {
    let img = sharp(input, { limitInputPixels: limit, failOn: "error" }).rotate().ensureAlpha();
    if (opts.maxSide) {
      img = img.resize(opts.maxSide, opts.maxSide, { fit: "inside", withoutEnlargement: !opts.enlarge });
    }
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (err) {
    // The header was read, so the pixels are at fault; libvips may say only "Unknown error" when
    // several images fail at once (its error text is shared between threads).
    const why = describe(err);
    throw new UserError("bad-image", `Cannot decode ${what}: ${/^unknown error$|^$/i.test(why) ? CORRUPT : why}`);
  }
}

/**
 * The size loadImage decodes `input` to (EXIF orientation applied), read from its header alone:
 * for when only the size is needed, without decoding the pixels again.
 */
export async function imageSize(input: string | Uint8Array): Promise<{ width: number; height: number }> {
  return (await readHeader(input, DEFAULT_MAX_INPUT_PIXELS)).autoOrient;
}

/** The header, checked: readable, with pixels, within `limit` pixels. */
async function readHeader(input: string | Uint8Array, limit: number, what = whatOf(input)): Promise<Metadata> {
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new UserError("bad-image", `Cannot read ${what}: ${whyUnreadable(input, err)}`);
  }
  const { width = 0, height = 0 } = meta;
  if (width < 1 || height < 1) throw new UserError("bad-image", `Cannot read ${what}: it has no pixels`);
  if (width * height > limit) {
    throw new UserError(
      "too-large",
      `${capitalise(what)} is ${width}x${height} pixels; the limit is ${limit.toLocaleString("en")} pixels. Export it smaller.`,
    );
  }
  return meta;
}

const whatOf = (input: string | Uint8Array, name?: string) =>
  typeof input === "string" ? `"${input}"` : (name ?? "the image");

/** Encode RGBA to PNG, optionally resized to a width/height. */
export async function encodePng(img: RgbaImage, size?: { width: number; height: number }): Promise<Buffer> {
  let s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } });
  if (size && (size.width !== img.width || size.height !== img.height)) {
    s = s.resize(size.width, size.height, { fit: "fill" });
  }
  return s.png().toBuffer();
}

/** Resize RGBA to an exact size (used for masks and multi-scale). */
export async function resizeRgba(img: RgbaImage, width: number, height: number): Promise<RgbaImage> {
  if (img.width === width && img.height === height) return img;
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } })
    .resize(width, height, { fit: "fill" })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(buf.buffer, buf.byteOffset, buf.length) };
}

const CORRUPT = "the file is truncated or corrupt";
const EMPTY = "it is empty (0 bytes)";

/** Why a header could not be read: a folder or an empty file named as such, else sharp's reason in plain words. */
function whyUnreadable(input: string | Uint8Array, err: unknown): string {
  if (typeof input === "string") {
    try {
      const stat = statSync(input);
      if (stat.isDirectory()) return "it is a folder, not an image";
      if (stat.size === 0) return EMPTY;
    } catch {
      // missing or out of reach: sharp's own words say which
    }
  }
  return describe(err);
}

function describe(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/unsupported image format/i.test(msg)) return "it is not a PNG, JPEG, WebP, GIF, TIFF or SVG image";
  if (/premature end|truncated|corrupt|VipsJpeg|pngload|Read error/i.test(msg)) return CORRUPT;
  if (/buffer is empty/i.test(msg)) return EMPTY;
  return msg.split("\n")[0];
}

function capitalise(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}
