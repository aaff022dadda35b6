// Turns the mask layer's own export into a region mask aligned with the content image:
// white where the mask layer has paint, black elsewhere, content-sized.
import type { PluginMessageOf } from "../shared/plugin-messages";

type JobImages = PluginMessageOf<"job-images">;

async function bitmap(png: Uint8Array): Promise<ImageBitmap> {
  return createImageBitmap(new Blob([png as BlobPart], { type: "image/png" }));
}

async function canvasPng(canvas: HTMLCanvasElement): Promise<Uint8Array> {
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/png"));
  if (!blob) throw new Error("Could not encode the region mask.");
  return new Uint8Array(await blob.arrayBuffer());
}

/**
 * The mask as a content-sized PNG, or undefined without a mask layer. Throws, naming `role` ("focus"
 * or "region"), when the mask layer paints nothing over the source: its box overlaps (the plugin
 * checked that) but it is empty or transparent there, so it would mark nothing.
 */
export async function composeMask(images: JobImages, role: "focus" | "region"): Promise<Uint8Array | undefined> {
  const m = images.mask;
  if (!m) return undefined;
  const content = await bitmap(images.content);
  const shape = await bitmap(m.png);
  const k = content.width / images.source.width; // content pixels per canvas unit
  const layer = document.createElement("canvas");
  layer.width = content.width;
  layer.height = content.height;
  const lctx = layer.getContext("2d")!;
  lctx.drawImage(shape, m.x * k, m.y * k, m.width * k, m.height * k);
  lctx.globalCompositeOperation = "source-in"; // keep the mask's coverage, paint it white
  lctx.fillStyle = "#fff";
  lctx.fillRect(0, 0, layer.width, layer.height);
  if (!paintsAnything(lctx.getImageData(0, 0, layer.width, layer.height).data)) {
    throw new Error(
      `The ${role} layer has nothing painted over “${images.source.name}”: give it a fill where it should apply.`,
    );
  }
  const out = document.createElement("canvas");
  out.width = content.width;
  out.height = content.height;
  const ctx = out.getContext("2d")!;
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(layer, 0, 0);
  return canvasPng(out);
}

function paintsAnything(rgba: Uint8ClampedArray): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] > 0) return true;
  return false;
}
