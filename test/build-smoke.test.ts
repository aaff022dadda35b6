// The built artefacts are what Figma and users run: check them, not the sources.
// `npm test` builds before vitest runs.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const read = (p: string) => readFileSync(p, "utf8");

describe("build output", () => {
  it("dist/code.js uses nothing Figma's sandbox lacks", () => {
    const code = read("dist/code.js");
    expect(code.length).toBeGreaterThan(0);
    for (const name of ["window", "document", "fetch", "WebSocket", "XMLHttpRequest", "require("]) {
      const re = new RegExp(`(?<![\\w$.])${name.replace("(", "\\(")}(?![\\w$])`);
      expect(re.test(code), `dist/code.js mentions ${name}`).toBe(false);
    }
  });

  it("dist/ui.html is one self-contained file", () => {
    const html = read("dist/ui.html");
    expect(html).toMatch(/<script>[\s\S]+<\/script>/);
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+stylesheet/);
  });

  it("the stylize bin lists its subcommands", () => {
    const out = execFileSync(process.execPath, ["dist/companion/stylize.js", "--help"], { encoding: "utf8" });
    for (const cmd of ["serve", "primitives", "style", "weights", "bench", "worker", "users"])
      expect(out).toContain(cmd);
  });

  it("the default companion never loads the team-mode queue (bullmq, ioredis): only dynamic imports", () => {
    const js = read("dist/companion/stylize.js");
    expect(js).toMatch(/await import\("bullmq"\)/);
    expect(js).not.toMatch(/^import [^;]*from "(bullmq|ioredis)"/m);
  });
});

describe("stylize devices", () => {
  it("reports CPU as available and names what auto picks", () => {
    const out = execFileSync(process.execPath, ["dist/companion/stylize.js", "devices", "--json"], {
      encoding: "utf8",
    });
    const report = JSON.parse(out);
    expect(report.devices).toContainEqual({ name: "cpu", available: true });
    expect(["cpu", "webgpu", "cuda"]).toContain(report.auto);
    for (const d of report.devices) if (!d.available) expect(d.reason).toMatch(/\w/);
  });
});
