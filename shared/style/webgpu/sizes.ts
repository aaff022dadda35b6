// Buffer sizes the engine needs for an image: pure arithmetic over the network's layers.
import { poolsAfter } from "../vgg";

/** FLOPs of the 3×3 convolutions' forward pass at an image size (an evaluation does about twice that). */
export function convFlops(convs: readonly { name: string; inC: number; outC: number }[], h: number, w: number): number {
  let px = h * w;
  let flops = 0;
  convs.forEach((c, i) => {
    flops += 2 * 9 * c.inC * c.outC * px;
    if (poolsAfter(convs, i)) px /= 4;
  });
  return flops;
}

/** The largest single buffer an image size needs, in bytes: an activation or a gradient. */
export function largestBufferBytes(
  convs: readonly { name: string; inC: number; outC: number }[],
  h: number,
  w: number,
) {
  let most = 3 * h * w;
  let px = h * w;
  convs.forEach((c, i) => {
    most = Math.max(most, c.outC * px, c.inC * px);
    if (poolsAfter(convs, i)) px /= 4;
  });
  return most * 4;
}
