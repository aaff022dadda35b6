// A new user's first commands are quiet: npm prints no warnings of ours, and the CUDA provider's
// download stays opt-in (`npm run setup:cuda`) through package.json's allowScripts, not .npmrc.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));

describe("a quiet install", () => {
  it("npm prints no warnings about the project's configuration", async () => {
    const { stderr } = await promisify(execFile)("npm", ["pkg", "get", "name"], { env: { ...process.env, CI: "" } });
    expect(stderr).not.toMatch(/npm warn/i);
  });

  it("onnxruntime-node's install script (the CUDA download) is denied; every other install script is reviewed", () => {
    expect(pkg.allowScripts["onnxruntime-node"]).toBe(false);
    const withScripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
      .filter(([path, p]) => path && p.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length));
    expect(withScripts.length).toBeGreaterThan(0);
    // npm lists unreviewed ones as a warning on every install
    for (const name of withScripts) expect(pkg.allowScripts, name).toHaveProperty([name]);
  });
});
