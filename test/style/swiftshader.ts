// WebGPU without a GPU: Debian's chromium ships SwiftShader, a CPU Vulkan driver; with libvulkan1
// and VK_ICD_FILENAMES pointing at it, Dawn (the `webgpu` package) finds a software adapter. Slow,
// but exact enough to check the WebGPU engine against the CPU one. Import this before anything
// opens a WebGPU device.
import { existsSync } from "node:fs";

const ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";
const LOADERS = ["/usr/lib/x86_64-linux-gnu/libvulkan.so.1", "/usr/lib/aarch64-linux-gnu/libvulkan.so.1"];

export const NO_SWIFTSHADER_MESSAGE =
  "WebGPU tests need SwiftShader: apt-get install chromium libvulkan1 (.ci/run does)";

export const HAVE_SWIFTSHADER =
  (process.env.VK_ICD_FILENAMES !== undefined || existsSync(ICD)) && LOADERS.some((p) => existsSync(p));

if (HAVE_SWIFTSHADER) process.env.VK_ICD_FILENAMES ??= ICD;
else if (process.env.CI === "true") throw new Error(NO_SWIFTSHADER_MESSAGE);
else console.warn(`skipped: ${NO_SWIFTSHADER_MESSAGE}`);
