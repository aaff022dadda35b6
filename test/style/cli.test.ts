// `stylize style` as users and benchmarks run it: the built CLI on tiny PNGs.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { coldStripes, warmContent, writePng } from "./images";

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "stylize-cli-"));
const env = { ...process.env, STYLIZE_CACHE_DIR: join(dir, "cache") };
const cli = (args: string[]) => exec("node", ["dist/companion/stylize.js", "style", ...args], { env });

beforeAll(async () => {
  await writePng(warmContent(80, 60), join(dir, "content.png"));
  await writePng(coldStripes(48, 48), join(dir, "style.png"));
});

describe("stylize style", () => {
  it("--json prints one result object; the PNG has the requested size; random weights are announced", async () => {
    const out = join(dir, "out.png");
    const { stdout, stderr } = await cli([
      join(dir, "content.png"),
      `${join(dir, "style.png")},${join(dir, "style.png")}`,
      "-o",
      out,
      "--size",
      "64",
      "--iters",
      "4",
      "--scales",
      "1",
      "--style-blend",
      "1,3",
      "--weights",
      "random:2",
      "--device",
      "cpu",
      "--json",
    ]);
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]);
    expect(r).toMatchObject({ device: "cpu", iters: 4, size: 64 });
    expect(r.ms).toBeGreaterThan(0);
    expect(r.msPerIter).toBeGreaterThan(0);
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(stderr).toContain("random weights: output is not artistic");
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([64, 48]);
  });

  it("fails clearly: missing weights name the fetch command; bad options name the flag", async () => {
    const args = [join(dir, "content.png"), join(dir, "style.png"), "-o", join(dir, "x.png")];
    const missing = await cli([...args, "--weights", join(dir, "none.h5")]).catch((e) => e);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("npx stylize weights fetch");
    const bad = await cli([...args, "--weights", "random", "--size", "5"]).catch((e) => e);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--size/);
    const detail = await cli([...args, "--weights", "random", "--detail-iters", "0"]).catch((e) => e);
    expect(detail.code).toBe(1);
    expect(detail.stderr).toMatch(/--detail-iters/);
    expect(existsSync(join(dir, "x.png"))).toBe(false);
  });

  it("refuses a size this computer has no memory for, naming one that fits", async () => {
    const out = join(dir, "big.png");
    const args = [join(dir, "content.png"), join(dir, "style.png"), "-o", out, "--weights", "random", "--size", "2048"];
    const err = await exec("node", ["dist/companion/stylize.js", "style", ...args], {
      env: { ...env, STYLIZE_STYLE_MEM_MB: "1500" },
    }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/stylize style: A 2048 px style transfer needs about .* \(at most \d+ px\)/);
    expect(existsSync(out)).toBe(false);
  });
});
