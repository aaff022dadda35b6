// The built CLI (dist/, made by `npm test`), which also proves the bundled worker runs.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import * as v from "valibot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShapeListSchema } from "../../shared/shapes";
import { writePng } from "../style/images";
import { cutouts, testCard, writeSolidPng } from "./helpers";

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ["dist/companion/stylize.js", "primitives", ...args]);
let dir = "";
let input = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "stylize-primitives-"));
  input = join(dir, "card.png");
  await writePng(testCard(120, 90), input);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("stylize primitives", () => {
  it("writes svg, png and json and prints one JSON summary", async () => {
    const [svg, png, json] = ["out.svg", "out.png", "out.json"].map((f) => join(dir, f));
    const { stdout } = await cli(
      input,
      "-o",
      svg,
      "-o",
      png,
      "-o",
      json,
      "-n",
      "8",
      "-r",
      "40",
      "-s",
      "200",
      "-j",
      "2",
      "--json",
    );
    const summary = JSON.parse(stdout);
    expect(Object.keys(summary).sort()).toEqual(["height", "ms", "score", "shapes", "width", "workers"]);
    expect(summary).toMatchObject({ shapes: 8, workers: 2, width: 40, height: 30 });
    expect(summary.score).toBeGreaterThan(0);
    expect(summary.score).toBeLessThan(0.3);

    const list = v.parse(ShapeListSchema, JSON.parse(await readFile(json, "utf8")));
    expect(list.shapes).toHaveLength(8);
    expect(list.score).toBeCloseTo(summary.score, 10);
    expect(await readFile(svg, "utf8")).toMatch(/^<svg [^>]*width="200" height="150"/);
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["png", 200, 150]);
  });

  it("shows progress on stderr without --json", async () => {
    const { stdout, stderr } = await cli(input, "-o", join(dir, "p.json"), "-n", "3", "-r", "32", "-m", "5", "-j", "1");
    expect(stdout).toBe("");
    expect(stderr).toMatch(/3\/3 shapes\s+score 0\.\d+/);
    const list = JSON.parse(await readFile(join(dir, "p.json"), "utf8"));
    expect(list.shapes.every((s: { type: string }) => s.type === "rotated-rectangle")).toBe(true);
  });

  it("keeps a transparent input's transparency by default (SVG mask, PNG alpha); --bg avg makes it opaque", async () => {
    const disc = cutouts(80).disc;
    const src = join(dir, "disc.png");
    await writePng(disc, src);
    const [svg, png, json, flat] = ["d.svg", "d.png", "d.json", "flat.png"].map((f) => join(dir, f));
    await cli(src, "-o", svg, "-o", png, "-o", json, "-n", "5", "-r", "40", "-s", "160", "-j", "1");
    expect(await readFile(svg, "utf8")).toMatch(/<mask id="alpha"[\s\S]*<g mask="url\(#alpha\)">/);
    expect(JSON.parse(await readFile(json, "utf8")).clip).toBe("alpha");
    const alphaOf = async (file: string) => {
      const { data } = await sharp(file).ensureAlpha().resize(80, 80).raw().toBuffer({ resolveWithObject: true });
      let sum = 0;
      for (let i = 0; i < 80 * 80; i++) sum += ((data[4 * i + 3] - disc.data[4 * i + 3]) / 255) ** 2;
      return Math.sqrt(sum / (80 * 80));
    };
    expect(await alphaOf(png)).toBeLessThan(0.05);
    await cli(src, "-o", flat, "-n", "5", "-r", "40", "-j", "1", "--bg", "avg");
    expect(await alphaOf(flat)).toBeGreaterThan(0.5);
  });

  it("a flat colour: no shapes, and the summary (or the text output) says why", async () => {
    const flat = join(dir, "flat.png");
    await writeSolidPng(flat, 40, 30, "#1e78c8");
    const out = join(dir, "flat.json");
    const { stdout } = await cli(flat, "-o", out, "-n", "30", "-r", "40", "-j", "1", "--json");
    expect(JSON.parse(stdout)).toMatchObject({ shapes: 0, note: expect.stringMatching(/^No shapes were added/) });
    const list = v.parse(ShapeListSchema, JSON.parse(await readFile(out, "utf8")));
    expect(list).toMatchObject({ shapes: [], background: { r: 30, g: 120, b: 200 } });
    const { stderr } = await cli(flat, "-o", out, "-n", "30", "-r", "40", "-j", "1");
    expect(stderr).toMatch(/^0 shapes, .*\nNo shapes were added: repeated searches/m);
  });

  it("takes a focus mask and a palette: every fill is a palette colour", async () => {
    const mask = join(dir, "focus.png");
    await writeSolidPng(mask, 60, 45, "#ffffff");
    const out = join(dir, "pal.json");
    const palette = "#1d3b8f,#f2c230,#222";
    await cli(
      input,
      "-o",
      out,
      "-n",
      "6",
      "-r",
      "40",
      "-j",
      "1",
      "--focus",
      mask,
      "--focus-weight",
      "6",
      "--palette",
      palette,
    );
    const list = v.parse(ShapeListSchema, JSON.parse(await readFile(out, "utf8")));
    expect(list.shapes).toHaveLength(6);
    const hex = (c: { r: number; g: number; b: number }) =>
      `#${[c.r, c.g, c.b].map((x) => x.toString(16).padStart(2, "0")).join("")}`;
    for (const s of list.shapes) expect(["#1d3b8f", "#f2c230", "#222222"]).toContain(hex(s.color));
  });

  it("--style paints first (random weights), then the shapes rebuild the painting at the input's size", async () => {
    // a flat grey content and a red/blue check: the painting's colours move off grey
    const grey = join(dir, "grey.png");
    await writeSolidPng(grey, 48, 36, "#808080");
    const check = join(dir, "check.png");
    const px = Buffer.alloc(32 * 32 * 3);
    for (let i = 0; i < 32 * 32; i++)
      px.set((((i % 32) >> 2) % 2) ^ ((i >> 7) % 2) ? [230, 30, 30] : [20, 20, 200], 3 * i);
    await sharp(px, { raw: { width: 32, height: 32, channels: 3 } })
      .png()
      .toFile(check);
    const [json, png, painting] = ["ps.json", "ps.png", "painting.png"].map((f) => join(dir, f));
    const paint = ["--style", check, "--weights", "random", "--style-size", "48", "--iters", "5", "--device", "cpu"];
    const { stderr } = await cli(
      grey,
      "-o",
      json,
      "-o",
      png,
      "-n",
      "4",
      "-r",
      "48",
      "-j",
      "1",
      ...paint,
      "--painting",
      painting,
    );
    expect(stderr).toContain("random weights: output is not artistic");
    expect(stderr).toMatch(/painting scale 1\/\d/);
    const mean = (await sharp(painting).stats()).channels.slice(0, 3).map((c) => c.mean);
    expect(await sharp(painting).metadata()).toMatchObject({ width: 48, height: 36 });
    const { background } = v.parse(ShapeListSchema, JSON.parse(await readFile(json, "utf8")));
    // the shapes' background is the mean of the picture they rebuild: the painting, not the grey input
    const bg = [background.r, background.g, background.b];
    expect(Math.max(...bg.map((c) => Math.abs(c - 128)))).toBeGreaterThan(5);
    for (const [i, c] of bg.entries()) expect(Math.abs(c - mean[i])).toBeLessThan(1.5);
    expect(await sharp(png).metadata()).toMatchObject({ width: 48, height: 36 });

    const refused = [
      [["-o", join(dir, "x.svg"), "--painting", painting], /--painting needs --style/],
      [["-o", join(dir, "x.svg"), "--iters", "50"], /--iters needs --style/],
      [["-o", join(dir, "x.svg"), "--weights", "random"], /--weights needs --style/],
      [["-o", join(dir, "x.svg"), ...paint, "--style-size", "5"], /--style-size must be a whole number from 16/],
      [["-o", join(dir, "x.svg"), ...paint, "--device", "tpu"], /--device must be one of auto, cpu/],
      [["-o", `${join(dir, "xs")}/`, ...paint, "--painting", painting, check], /--painting takes one input only/],
      [["-o", join(dir, "same.png"), ...paint, "--painting", join(dir, "same.png")], /--painting and -o both name/],
      [["-o", join(dir, "x.svg"), ...paint, "--painting", grey], /--painting ".*grey\.png" would overwrite/],
    ] as const;
    for (const [args, message] of refused) {
      const err = await cli(grey, ...args).catch((e) => e);
      expect(err.code, args.join(" ")).toBe(1);
      expect(err.stderr).toMatch(message);
    }
    // --painting takes a folder (or a {name} pattern) as -o does
    await cli(grey, "-o", json, "-n", "2", "-r", "48", "-j", "1", ...paint, "--painting", `${join(dir, "paintings")}/`);
    expect(await sharp(join(dir, "paintings", "grey.png")).metadata()).toMatchObject({ width: 48, height: 36 });
  });

  it("--fill gradient: every shape a two-stop gradient, in the JSON and as SVG linearGradients", async () => {
    const [svg, json] = ["grad.svg", "grad.json"].map((f) => join(dir, f));
    await cli(input, "-o", svg, "-o", json, "-n", "6", "-r", "40", "-j", "1", "--fill", "gradient", "--json");
    const list = v.parse(ShapeListSchema, JSON.parse(await readFile(json, "utf8")));
    expect(list.shapes.every((s) => s.gradient)).toBe(true);
    const text = await readFile(svg, "utf8");
    expect(text.match(/<linearGradient /g)).toHaveLength(6);
    expect(text).toContain('fill="url(#g0)"');
  });

  it("refuses bad input with a clear message and exit code 1", async () => {
    const bad = [
      [[join(dir, "missing.png"), "-o", join(dir, "x.svg")], /Cannot read/],
      [[input, "-o", join(dir, "x.gif")], /must end in \.svg, \.png or \.json/],
      [[input, "-o", join(dir, "x.svg"), "-n", "0"], /-n must be a whole number from 1 to 5000/],
      [[input, "-o", join(dir, "x.svg"), "-m", "hexagon"], /-m must be one of/],
      [[input, "-o", join(dir, "x.svg"), "--bg", "red"], /--bg must be/],
      [[input, "-o", join(dir, "x.svg"), "--palette", "#fff,#12345,red"], /--palette: "#12345" is not a hex colour/],
      [[input, "-o", join(dir, "x.svg"), "--palette", ","], /--palette must list 1 to 256 hex colours/],
      [[input, "-o", join(dir, "x.svg"), "--focus-weight", "0"], /--focus-weight must be a number from 1 to 100/],
      [[input, "-o", join(dir, "x.svg"), "--fill", "radial"], /--fill must be flat or gradient/],
      [[input, "-o", join(dir, "x.svg"), "--focus", join(dir, "nope.png")], /Cannot read/],
      [[input], /give an output with -o/],
      [
        [input, "-o", join(dir, "x.svg"), "--focus", join(dir, "black.png")],
        /--focus ".*black\.png" marks no area: it is black or transparent everywhere/,
      ],
      [[input, "-o", input], /-o ".*card\.png" would overwrite ".*card\.png", which this command reads/],
      [[input, "-o", `${dir}/./card.png`], /would overwrite/],
      [
        [input, "-o", join(dir, "x.svg"), "-o", join(dir, "focus-in.png"), "--focus", join(dir, "focus-in.png")],
        /would overwrite/,
      ],
      [[input, "-o", join(input, "x.svg")], /Cannot write ".*x\.svg": ".*card\.png" is a file, not a folder/],
    ] as const;
    await writePng(testCard(20, 20), join(dir, "focus-in.png"));
    await writeSolidPng(join(dir, "black.png"), 20, 20, "#000000");
    const before = await readFile(input);
    for (const [args, message] of bad) {
      const err = await cli(...args).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect(err?.code, args.join(" ")).toBe(1);
      expect(err?.stderr).toMatch(message);
      expect(err?.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
    await expect(stat(join(dir, "x.svg"))).rejects.toThrow();
    expect((await readFile(input)).equals(before)).toBe(true);
  });

  it("a search worker that exits mid-run is an error in plain words, not a cancel", async () => {
    // preloaded into every thread: the first search worker leaves as a crash or a kill would
    const preload = join(dir, "exit-worker.cjs");
    await writeFile(
      preload,
      `const { isMainThread, workerData } = require("node:worker_threads");
       if (!isMainThread && workerData && workerData.index === 0) setTimeout(() => process.exit(3), 300);`,
    );
    const env = { ...process.env, NODE_OPTIONS: `--require ${preload}` };
    const out = join(dir, "never.svg");
    const err = await run(
      process.execPath,
      ["dist/companion/stylize.js", "primitives", input, "-o", out, "-n", "5000", "-j", "2"],
      {
        env,
      },
    ).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(
      /stylize primitives: A search worker stopped unexpectedly \(exit code 3\); nothing was made\./,
    );
    expect(err.stderr).not.toMatch(/cancelled|\n\s+at /);
    await expect(stat(out)).rejects.toThrow();
  });

  it("keeps the input's aspect ratio however thin (not the working size's, rounded to whole pixels)", async () => {
    // 3000×100 works at 256×9 (8.5 rounded up): scaled back, that would be 3000×105
    const banner = join(dir, "banner.png");
    const disc = Buffer.from('<svg width="3000" height="100"><circle cx="500" cy="50" r="40" fill="#fff"/></svg>');
    await sharp({ create: { width: 3000, height: 100, channels: 3, background: "#1e78c8" } })
      .composite([{ input: disc }])
      .png()
      .toFile(banner);
    const [svg, png] = ["banner.svg", "banner.png"].map((f) => join(dir, "thin", f));
    await cli(banner, "-o", svg, "-o", png, "-n", "3", "-j", "1");
    expect(await readFile(svg, "utf8")).toMatch(/^<svg [^>]*width="3000" height="100"/);
    expect(await sharp(png).metadata()).toMatchObject({ width: 3000, height: 100 });
    await cli(banner, "-o", png, "-n", "3", "-j", "1", "-s", "600");
    expect(await sharp(png).metadata()).toMatchObject({ width: 600, height: 20 });
  });

  it("a batch: several inputs into a folder or a {name} pattern, one JSON line each", async () => {
    const second = join(dir, "photo.b.png");
    await sharp(input).flop().toFile(second);
    const out = join(dir, "batch-out");
    const { stdout } = await cli(
      input,
      second,
      "-o",
      `${out}/`,
      "-o",
      join(out, "{name}.json"),
      "-n",
      "4",
      "-r",
      "32",
      "-j",
      "1",
      "--json",
    );
    const lines = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.input, l.outputs, l.shapes])).toEqual([
      [input, [join(out, "card.svg"), join(out, "card.json")], 4],
      [second, [join(out, "photo.b.svg"), join(out, "photo.b.json")], 4],
    ]);
    for (const f of ["card.svg", "photo.b.svg"]) expect(await readFile(join(out, f), "utf8")).toMatch(/^<svg /);
    // the two inputs differ, so do their shapes
    const [a, b] = await Promise.all(["card.json", "photo.b.json"].map((f) => readFile(join(out, f), "utf8")));
    expect(a).not.toBe(b);
  });

  it("a batch goes on past an input it cannot read, names it and exits 1", async () => {
    const out = join(dir, "partial");
    const missing = join(dir, "nope.png");
    const err = await cli(missing, input, "-o", `${out}/`, "-n", "2", "-r", "32", "-j", "1").catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/1 of 2 · .*nope\.png/);
    expect(err.stderr).toMatch(/2 of 2 · .*card\.png/);
    expect(err.stderr).toMatch(/stylize primitives: 1 of 2 done; .*nope\.png: Cannot read/);
    expect((await stat(join(out, "card.svg"))).isFile()).toBe(true);
    // with --json every input has its line, a failed one its error (a folder given as an input here)
    const json = await cli(dir, input, "-o", `${out}/`, "-n", "2", "-r", "32", "-j", "1", "--json").catch((e) => e);
    expect(json.code).toBe(1);
    const lines = json.stdout
      .trim()
      .split("\n")
      .map((l: string) => JSON.parse(l));
    expect(lines[0]).toEqual({
      input: dir,
      error: `Cannot read "${dir}": it is a folder, not an image`,
      code: "bad-image",
    });
    expect(lines[1]).toMatchObject({ input, shapes: 2 });
  });

  it("refuses batch outputs that cannot work, before any work", async () => {
    const file = join(dir, "taken.svg");
    await sharp(input).toFile(join(dir, "taken.png"));
    const bad = [
      [
        [input, join(dir, "taken.png"), "-o", file],
        /With 2 inputs, -o must be a folder \("out\/"\) or a pattern with \{name\}/,
      ],
      [[input, "-o", `${join(dir, "taken.png")}/`], /names a folder, but .*taken\.png" is a file/],
      [[input, input, "-o", `${join(dir, "dup")}/`], /would both be written to .*card\.svg/],
      [[input, join(dir, "taken.png"), "-o", join(dir, "{name}.gif")], /must end in \.svg, \.png or \.json/],
      // the results would replace the pictures they are made from
      [[input, join(dir, "taken.png"), "-o", join(dir, "{name}.png")], /would overwrite ".*card\.png"/],
    ] as const;
    for (const [args, message] of bad) {
      const err = await cli(...args, "-n", "2").catch((e) => e);
      expect(err.code, args.join(" ")).toBe(1);
      expect(err.stderr).toMatch(message);
    }
    await expect(stat(file)).rejects.toThrow();
    await expect(stat(join(dir, "dup"))).rejects.toThrow();
  });

  it("bench primitives reports the machine, time and score per image", async () => {
    const { stdout } = await run(process.execPath, [
      "dist/companion/stylize.js",
      "bench",
      "primitives",
      "-n",
      "3",
      "-r",
      "32",
      "-j",
      "1",
      "--image",
      input,
    ]);
    expect(stdout).toMatch(/machine: .+ × \d+ cores/);
    expect(stdout).toMatch(/card\.png\s+32x24\s+ours [\d.]+ s \(cpu [\d.]+ s\), score 0\.\d+/);
  });
});
