// Buffer sizes and work the engine needs for an image: pure arithmetic over the network's layers.
import { poolsAfter, reluName, STYLE_LAYERS } from "../vgg";

/**
 * Floating-point operations of one loss + gradient evaluation at h × w: each convolution forward
 * and its input gradient (2·in·out·9 per pixel each), each style layer's Gram and its backward
 * product (2·C² per pixel each). Pooling, ReLU and the losses are left out (a few %).
 */
export function stepFlops(convs: readonly { name: string; inC: number; outC: number }[], h: number, w: number): number {
  let px = h * w;
  let flops = 0;
  convs.forEach((c, i) => {
    flops += 2 * 2 * c.inC * c.outC * 9 * px;
    if ((STYLE_LAYERS as readonly string[]).includes(reluName(c.name))) flops += 2 * 2 * c.outC * c.outC * px;
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
