// Buffer sizes the engine needs for an image: pure arithmetic over the network's layers.
import { poolsAfter } from "../vgg";

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
