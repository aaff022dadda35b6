#!/usr/bin/env node
// `npm run setup:cuda`: install onnxruntime-node's CUDA 12 provider (from NuGet, ~hundreds of MB).
// `npm install` skips it (package.json allowScripts denies the install script), so the project installs
// from the npm registry alone; this opts in.
// Plain .mjs so it runs before any build. Exports its checks for the tests.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const NUGET_INDEX = "https://api.nuget.org/v3/index.json";

/** onnxruntime-node ships a CUDA provider for Linux x64 only. Returns an error message or undefined. */
export function platformProblem(platform = process.platform, arch = process.arch) {
  if (platform === "linux" && arch === "x64") return undefined;
  const alt =
    platform === "win32" || platform === "darwin"
      ? " Use --device webgpu instead (it is bundled: Direct3D 12 on Windows, Metal on macOS)."
      : " Use --device cpu (or webgpu where a Vulkan GPU is present).";
  return `The CUDA provider for onnxruntime-node exists only for Linux x64; this is ${platform} ${arch}.${alt}`;
}

/** Can we reach the NuGet feed the installer downloads from? Returns an error message or undefined. */
export async function connectivityProblem(url = NUGET_INDEX, timeoutMs = 5000) {
  try {
    const res = await fetch(url, { method: "HEAD", signal: AbortSignal.timeout(timeoutMs) });
    if (res.status >= 500) return `${new URL(url).host} answered ${res.status}; try again later.`;
    return undefined;
  } catch (err) {
    const code = err?.cause?.code ?? err?.name;
    const why =
      code === "ENOTFOUND" || code === "EAI_AGAIN"
        ? "its name does not resolve"
        : code === "TimeoutError"
          ? `no answer within ${timeoutMs / 1000} s`
          : (err?.cause?.message ?? err?.message ?? String(err));
    return (
      `Cannot reach ${new URL(url).host} (${why}). setup:cuda downloads the CUDA provider from NuGet, ` +
      "so it needs internet access (behind a proxy set HTTPS_PROXY). Nothing was changed."
    );
  }
}

async function main() {
  const problem = platformProblem();
  if (problem) return fail(problem);
  // The installer honours proxies through global-agent; our own fetch check does not, so skip it then.
  const proxy = process.env.HTTPS_PROXY || process.env.https_proxy;
  if (!proxy) {
    const offline = await connectivityProblem(process.env.STYLIZE_NUGET_INDEX || NUGET_INDEX);
    if (offline) return fail(offline);
  }
  const require = createRequire(import.meta.url);
  const ortDir = dirname(require.resolve("onnxruntime-node/package.json"));
  const installer = join(ortDir, "script", "install.js");
  const target = join(ortDir, "bin", "napi-v6", "linux", "x64", "libonnxruntime_providers_cuda.so");
  console.error("Installing the onnxruntime-node CUDA 12 provider (downloads from NuGet)…");
  const code = await new Promise((done) => {
    const child = spawn(process.execPath, [installer], {
      cwd: ortDir,
      stdio: "inherit",
      // run directly, so npm's allowScripts denial does not apply; the flag asks for the CUDA 12 files
      env: {
        ...process.env,
        ONNXRUNTIME_NODE_INSTALL: "cuda12",
        ...(proxy && !process.env.GLOBAL_AGENT_HTTPS_PROXY ? { GLOBAL_AGENT_HTTPS_PROXY: proxy } : {}),
      },
    });
    child.on("exit", (c) => done(c ?? 1));
    child.on("error", () => done(1));
  });
  if (code !== 0 || !existsSync(target))
    return fail(`The onnxruntime-node installer failed (exit ${code}); see above.`);
  console.error(
    `Installed ${target}.\nCUDA runs only with an NVIDIA driver and the CUDA 12 + cuDNN 9 runtime libraries on the ` +
      "library path. Try it: `npx stylize style <content> <style> -o out.png --device cuda`; the output says which device ran.",
  );
}

function fail(message) {
  console.error(`setup:cuda: ${message}`);
  process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
