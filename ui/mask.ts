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

export async function composeMask(images: JobImages): Promise<Uint8Array | undefined> {
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
  const out = document.createElement("canvas");
  out.width = content.width;
  out.height = content.height;
  const ctx = out.getContext("2d")!;
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(layer, 0, 0);
  return canvasPng(out);
}
