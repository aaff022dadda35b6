// `npm run setup:cuda`: its platform and connectivity checks, and the offline run (against a closed
// local port, so the test never downloads the CUDA provider on a machine that is online).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
// @ts-expect-error plain .mjs script (runs before any build), no type declarations
import { connectivityProblem, platformProblem } from "../../companion/setup-cuda.mjs";
import { ortBinDir } from "../../companion/style/devices";

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((done) => s.listen(0, "127.0.0.1", done));
  const { port } = s.address() as { port: number };
  await new Promise((done) => s.close(done));
  return port;
}

describe("setup:cuda checks", () => {
  it("accepts only Linux x64 and suggests WebGPU elsewhere", () => {
    expect(platformProblem("linux", "x64")).toBeUndefined();
    expect(platformProblem("darwin", "arm64")).toMatch(/only for Linux x64; this is darwin arm64.*--device webgpu/);
    expect(platformProblem("win32", "x64")).toMatch(/Direct3D 12/);
    expect(platformProblem("linux", "arm64")).toMatch(/this is linux arm64/);
  });

  it("reports an unreachable feed in words, quickly", async () => {
    const port = await closedPort();
    const t0 = Date.now();
    const msg = await connectivityProblem(`http://127.0.0.1:${port}/v3/index.json`, 2000);
    expect(msg).toMatch(new RegExp(`Cannot reach 127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\).*Nothing was changed`));
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("times out on a feed that never answers", async () => {
    const silent = createServer(() => {}); // accepts, never replies
    await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
    const { port } = silent.address() as { port: number };
    try {
      expect(await connectivityProblem(`http://127.0.0.1:${port}/`, 300)).toMatch(/no answer within 0\.3 s/);
    } finally {
      silent.close();
    }
  });

  it("the script exits 1 offline, with the reason, and installs nothing", async () => {
    const port = await closedPort();
    const env: NodeJS.ProcessEnv = { ...process.env, STYLIZE_NUGET_INDEX: `http://127.0.0.1:${port}/v3/index.json` };
    for (const k of ["HTTPS_PROXY", "https_proxy"]) delete env[k];
    const cudaLib = join(ortBinDir(), "libonnxruntime_providers_cuda.so");
    const hadCuda = existsSync(cudaLib);
    const r = await promisify(execFile)(process.execPath, [join("companion", "setup-cuda.mjs")], { env }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    if (process.platform === "linux" && process.arch === "x64") {
      expect(r.stderr).toMatch(/^setup:cuda: Cannot reach 127\.0\.0\.1:\d+ .*needs internet access/);
      expect(existsSync(cudaLib)).toBe(hadCuda);
    } else {
      expect(r.stderr).toMatch(/only for Linux x64/);
    }
  });
});
