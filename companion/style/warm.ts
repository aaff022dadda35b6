// At the start of `stylize serve` or `stylize worker`, in the background, what the first style job
// would otherwise wait for: the GPU engine's pipelines and tile choice, and the weights (80 MB of
// HDF5: 0.8 s on a 2-core VM, a large part of a 2 s GPU job). Failures are logged; the first job
// then meets them again and says what is wrong.
import type { DeviceRequest } from "../../shared/devices";
import type { Logger } from "../log";

export function warmStyle(weights: { spec: string; installed: boolean }, log: Logger, device?: DeviceRequest): void {
  void import("./webgpu-net")
    .then((m) => m.warmWebGpu(device))
    .then((warmed) => warmed && log.info("WebGPU style engine ready"))
    .catch((err) => log.warn({ err }, "WebGPU warm-up failed; the first style job will say why"));
  if (weights.installed)
    void import("./vgg-weights")
      .then((m) => m.loadVggWeights(weights.spec))
      .then(() => log.info({ weights: weights.spec }, "style weights read"))
      .catch((err) => log.warn({ err }, "reading the style weights failed; the first style job will say why"));
}
