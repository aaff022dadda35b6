import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { UserError } from "../companion/errors";
import { encodePng, imageSize, loadImage } from "../companion/image";

async function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 200, g: 10, b: 30, alpha: 1 } } })
    .png()
    .toBuffer();
}

describe("loadImage", () => {
  it("decodes to RGBA and fits the longest side", async () => {
    const img = await loadImage(await png(40, 20), { maxSide: 10 });
    expect([img.width, img.height]).toEqual([10, 5]);
    expect(img.data.length).toBe(10 * 5 * 4);
    expect([...img.data.subarray(0, 4)]).toEqual([200, 10, 30, 255]);
  });

  it("only enlarges when asked", async () => {
    expect((await loadImage(await png(8, 4), { maxSide: 16 })).width).toBe(8);
    expect((await loadImage(await png(8, 4), { maxSide: 16, enlarge: true })).width).toBe(16);
  });

  it("names the problem for garbage, truncated and huge inputs", async () => {
    await expect(loadImage(new Uint8Array([1, 2, 3, 4]))).rejects.toMatchObject({ code: "bad-image" });
    const full = await png(64, 64);
    await expect(loadImage(full.subarray(0, full.length - 30))).rejects.toBeInstanceOf(UserError);
    await expect(loadImage(await png(100, 100), { maxInputPixels: 5000 })).rejects.toMatchObject({
      code: "too-large",
      message: expect.stringMatching(/100x100/),
    });
  });

  it("round-trips through encodePng", async () => {
    const img = await loadImage(await png(6, 3));
    const again = await loadImage(await encodePng(img));
    expect([...again.data]).toEqual([...img.data]);
  });

  it("imageSize is the size loadImage decodes to, EXIF rotation included, from the header alone", async () => {
    const rotated = await sharp(await png(40, 20))
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const img = await loadImage(rotated);
    expect([img.width, img.height]).toEqual([20, 40]);
    expect(await imageSize(rotated)).toEqual({ width: 20, height: 40 });
    await expect(imageSize(new Uint8Array([1, 2, 3, 4]))).rejects.toMatchObject({ code: "bad-image" });
  });
});
