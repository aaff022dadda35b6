// manifest.json as Figma's validator reads it (rules in ./manifest-rules.ts). `npm test` builds
// first, so the files it names exist.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_COMPANION_URL } from "../shared/protocol";
import { manifestProblems } from "./manifest-rules";

const manifest = JSON.parse(readFileSync("manifest.json", "utf8"));
// The rules' own tests start from a minimal valid manifest, so they don't depend on ours.
const base = { name: "P", api: "1.0.0", main: "code.js", ui: "ui.html" };
const withNetwork = (networkAccess: object) => ({ ...base, networkAccess });
const allFilesExist = () => true;

describe("manifest.json", () => {
  it("passes Figma's rules", () => {
    expect(manifestProblems(manifest)).toEqual([]);
  });

  it("allows exactly the plugin's default companion address, for dev imports and published builds", () => {
    expect(manifest.editorType).toEqual(["figma"]);
    expect(manifest.documentAccess).toBe("dynamic-page");
    expect(manifest.networkAccess.allowedDomains).toEqual([DEFAULT_COMPANION_URL]);
    expect(manifest.networkAccess.devAllowedDomains).toEqual([DEFAULT_COMPANION_URL]);
    expect(JSON.stringify(manifest)).not.toMatch(/\d+\.\d+\.\d+\.\d+|\[::1\]/);
  });
});

describe("the manifest rules", () => {
  it("reject the old IP-literal address, in either list", () => {
    const old = withNetwork({ allowedDomains: ["ws://127.0.0.1:47615"], reasoning: "local companion" });
    expect(manifestProblems(old, allFilesExist)).toEqual([
      'networkAccess.allowedDomains: "ws://127.0.0.1:47615" uses an IP address; Figma only accepts host names (use localhost)',
    ]);
    const v6 = withNetwork({ allowedDomains: ["none"], devAllowedDomains: ["ws://[::1]:47615", "10.0.0.1"] });
    expect(manifestProblems(v6, allFilesExist)).toHaveLength(2);
  });

  it("accept the entry forms Figma documents", () => {
    const domains = ["https://my-app.cdn.com", "wss://socket.io", "*.example.com", "example.com/api/", "none"];
    expect(manifestProblems(withNetwork({ allowedDomains: domains }), allFilesExist)).toEqual([]);
  });

  it("reject entries that are not URLs", () => {
    expect(manifestProblems(withNetwork({ allowedDomains: ["ws://"] }), allFilesExist)).toEqual([
      'networkAccess.allowedDomains: "ws://" must be a valid URL',
    ]);
  });

  it("want a reasoning when localhost is allowed", () => {
    const dev = withNetwork({ allowedDomains: ["none"], devAllowedDomains: ["ws://localhost:1"] });
    expect(manifestProblems(dev, allFilesExist)).toEqual([
      "networkAccess.reasoning is required when local addresses are allowed",
    ]);
  });

  it("reject unknown keys, at the top level and in networkAccess", () => {
    const odd = { ...withNetwork({ allowedDomains: ["none"], allowedHosts: [] }), permisions: [] };
    expect(manifestProblems(odd, allFilesExist)).toEqual([
      'unknown key "permisions"',
      'unknown key "networkAccess.allowedHosts"',
    ]);
  });

  it("want main and ui to name files that exist", () => {
    expect(manifestProblems(base, (p) => p !== "ui.html")).toEqual(['"ui" names ui.html, which does not exist']);
    expect(manifestProblems({ ...base, main: undefined }, allFilesExist)).toEqual(['"main" is required']);
  });
});
