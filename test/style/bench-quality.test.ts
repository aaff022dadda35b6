// `stylize bench quality` on generated pictures with random weights (tests never read ../shared):
// one figure line per pair and size, and a contact sheet with a cell per picture.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { coldStripes, warmContent, writePng } from "./images";

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "stylize-bench-quality-"));
const env = { ...process.env, STYLIZE_CACHE_DIR: join(dir, "cache") };
const cli = resolve("dist/companion/stylize.js");

beforeAll(async () => {
  await writePng(warmContent(80, 60), join(dir, "content.png"));
  await writePng(coldStripes(48, 48), join(dir, "style.png"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("stylize bench quality", () => {
  it("prints cost and quality figures per size and writes the contact sheet", async () => {
    const out = join(dir, "sheet.png");
    const c = join(dir, "content.png");
    const s = join(dir, "style.png");
    const args = ["bench", "quality", "--weights", "random", "--content", c, "--style", s, "--sizes", "64,96"];
    const { stdout } = await exec("node", [cli, ...args, "--iters", "2", "--out", out, "--json"], { env });
    const rows = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.content, r.style, r.size, r.width])).toEqual([
      ["content.png", "style.png", 64, 64],
      ["content.png", "style.png", 96, 96],
    ]);
    for (const r of rows) {
      // One scale (both sizes are under 2 × 128 px): the cost is its evaluations × (size/512)².
      expect(r.stepEquivalents).toBeCloseTo((r.evals * (r.size * (r.size * 0.75))) / (512 * 384), 1);
      expect(r.subject).toBeGreaterThan(-1);
      expect(r.subject).toBeLessThanOrEqual(1);
      expect(r.contentDistance).toBeGreaterThan(0);
      expect(r.styleDistance).toBeGreaterThan(0);
    }
    // Content, style and one result per size in a row.
    const meta = await sharp(out).metadata();
    expect(meta.width).toBe(4 * 200);
  });

  it("without pictures and without ../shared/fixtures, says what to give", async () => {
    const cwd = join(dir, "clone"); // its ../shared is dir/shared: absent
    mkdirSync(cwd);
    const err = await exec("node", [cli, "bench", "quality", "--weights", "random"], { env, cwd }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/give --content and --style/);
  });
});
