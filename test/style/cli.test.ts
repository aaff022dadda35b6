// `stylize style` as users and benchmarks run it: the built CLI on tiny PNGs.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
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
    expect(bad.stderr).toMatch(/^stylize style: --size must be a whole number from 16 to 2048, not 5$/m);
    const blend = await cli([...args, "--weights", "random", "--style-blend", "1,-2"]).catch((e) => e);
    expect(blend.stderr).toMatch(/--style-blend, entry 2, must be a number from 0 to 1000000, not -2/);
    const detail = await cli([...args, "--weights", "random", "--detail-iters", "0"]).catch((e) => e);
    expect(detail.code).toBe(1);
    expect(detail.stderr).toMatch(/--detail-iters/);
    expect(existsSync(join(dir, "x.png"))).toBe(false);
  });

  it("refuses, before any work, an output that is not a PNG or would replace a picture it reads", async () => {
    const [content, style] = [join(dir, "content.png"), join(dir, "style.png")];
    const before = [readFileSync(content), readFileSync(style)];
    const refused = [
      [[content, style, "-o", join(dir, "x.jpg")], /Cannot write ".*x\.jpg": the output must end in \.png/],
      [[content, style, "-o", join(dir, "x")], /the output must end in \.png/],
      [[content, style, "-o", content], /would overwrite ".*content\.png", which this command reads/],
      [[content, style, "-o", style], /would overwrite ".*style\.png", which this command reads/],
    ] as const;
    for (const [args, message] of refused) {
      const err = await cli([...args, "--weights", "random", "--size", "32", "--iters", "1"]).catch((e) => e);
      expect(err.code, args.join(" ")).toBe(1);
      expect(err.stderr).toMatch(message);
    }
    expect([readFileSync(content), readFileSync(style)]).toEqual(before);
    expect(existsSync(join(dir, "x.jpg"))).toBe(false);
  });

  it("a batch: several contents before the style, -o a {name} pattern, one JSON line each", async () => {
    await writePng(warmContent(60, 80), join(dir, "tall.png"));
    const out = join(dir, "styled", "{name}-styled.png");
    const { stdout } = await cli([
      join(dir, "content.png"),
      join(dir, "tall.png"),
      join(dir, "style.png"),
      "-o",
      out,
      ...["--size", "64", "--iters", "2", "--scales", "1", "--weights", "random", "--device", "cpu", "--json"],
    ]);
    const lines = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.input, l.output])).toEqual([
      [join(dir, "content.png"), join(dir, "styled", "content-styled.png")],
      [join(dir, "tall.png"), join(dir, "styled", "tall-styled.png")],
    ]);
    const sizes = await Promise.all(
      ["content", "tall"].map((n) => sharp(join(dir, "styled", `${n}-styled.png`)).metadata()),
    );
    expect(sizes.map((m) => [m.width, m.height])).toEqual([
      [64, 48],
      [48, 64],
    ]);
  });

  it("a batch refuses one output file, and stops at missing weights instead of repeating it", async () => {
    const two = [join(dir, "content.png"), join(dir, "content.png"), join(dir, "style.png")];
    const one = await cli([...two, "-o", join(dir, "one.png"), "--weights", "random"]).catch((e) => e);
    expect(one.code).toBe(1);
    expect(one.stderr).toMatch(/With 2 inputs, -o must be a folder .* not the one file/);
    const lone = await cli([join(dir, "style.png"), "-o", join(dir, "x.png")]).catch((e) => e);
    expect(lone.stderr).toMatch(/give a content image and then the style image/);

    await writePng(warmContent(30, 30), join(dir, "other.png"));
    const three = [join(dir, "content.png"), join(dir, "other.png"), join(dir, "style.png")];
    const missing = await cli([...three, "-o", `${join(dir, "nw")}/`, "--weights", join(dir, "none.h5")]).catch(
      (e) => e,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/0 of 2 done; .*content\.png: .*weights fetch.*The rest were not started\./);
    expect(missing.stderr).not.toMatch(/2 of 2 ·/);
    // --json: a line for each input, the one never started too; and for a lone input that fails
    const json = await cli([...three, "-o", `${join(dir, "nw")}/`, "--weights", join(dir, "none.h5"), "--json"]).catch(
      (e) => e,
    );
    const lines = json.stdout
      .trim()
      .split("\n")
      .map((l: string) => JSON.parse(l));
    expect(lines.map((l: { input: string; code: string }) => [l.input, l.code])).toEqual([
      [three[0], "weights-missing"],
      [three[1], "weights-missing"],
    ]);
    expect(lines[1].error).toMatch(/^Not started: /);
    const single = await cli([
      three[0],
      three[2],
      "-o",
      join(dir, "nw.png"),
      "--weights",
      join(dir, "none.h5"),
      "--json",
    ]).catch((e) => e);
    expect(single.code).toBe(1);
    expect(JSON.parse(single.stdout)).toMatchObject({ input: three[0], code: "weights-missing" });
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
