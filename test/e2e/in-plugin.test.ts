// Browser end-to-end with no companion at all: primitives run inside the plugin (Web Workers in
// the UI iframe, started from a data: URL) and come back as native nodes, in one undo step; style
// mode says it needs the companion. And the in-plugin engine finds exactly the shapes Node finds.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type FrameLocator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runInBrowser, shapeListHash } from "../../companion/primitives/bench-browser";
import { DEFAULT_BUDGET } from "../../companion/primitives/engine";
import { runPrimitives } from "../../companion/primitives/run";
import type { RgbaImage } from "../../companion/image";
import { PrimitivesOptionsSchema } from "../../shared/protocol";
import * as v from "valibot";
import { freePort } from "./companion";
import type { Summary } from "./harness/page";
import { desktopPage } from "./figma-desktop";
import { serveHarness } from "./serve";
import { eventually, waitText, waitVisible } from "./wait";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const PALETTE = ["#1d3b8f", "#f2c230", "#ffffff"];
const VARIABLE = "#c0392b";
const ARTIFACTS = "test-artifacts/e2e";

type Harness = { select(names: string[]): void; board(): Summary; commits(): number };
type Win = { harness: Harness };

describe.skipIf(!existsSync(CHROMIUM))("primitives with no companion, inside the plugin", () => {
  let browser: Browser;
  let page: Page;
  let ui: FrameLocator;
  let harness: { url: string; close(): Promise<void> };
  const board = () => page.evaluate(() => (window as unknown as Win).harness.board());
  const commits = () => page.evaluate(() => (window as unknown as Win).harness.commits());
  const run = () => ui.getByTestId("run");
  const phase = (want: string, timeout: number) =>
    eventually(
      `run ${want}`,
      () => run().getAttribute("data-phase"),
      (p) => p === want || p === "failed",
      timeout,
    );
  /**
   * Clicks Stylize and waits for this run's result: an undo step committed and the line naming
   * `name` (a "done" left over from the run before is no answer). Fails saying what it saw.
   */
  const stylizeAdds = async (name: string, timeout = 60_000) => {
    const before = await commits();
    await ui.getByTestId("stylize").click();
    const seen = await eventually(
      `“${name}” added`,
      async () => ({
        commits: await commits(),
        phase: await run().getAttribute("data-phase"),
        line: await ui.getByTestId("run-line").textContent(),
      }),
      (s) => (s.commits > before && s.phase === "done") || s.phase === "failed",
      timeout,
    );
    const names = (await board()).children!.map((c) => c.name);
    expect(seen.line, `board: ${names.join(" | ")}`).toBe(`Added “${name}” beside the layer.`);
    expect(seen.commits).toBe(before + 1);
  };
  const setShapes = async (n: number) => {
    const field = ui.getByLabel("Shapes", { exact: true });
    if (!(await field.isVisible())) await ui.getByText("Advanced options").click();
    await field.fill(String(n));
    await field.press("Tab");
    expect(await field.inputValue()).toBe(String(n));
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const nobody = await freePort(); // nothing listens there: the companion is "not running"
    [harness, browser] = await Promise.all([
      serveHarness(),
      chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu"] }),
    ]);
    page = await browser.newPage(desktopPage);
    page.on("pageerror", (err) => console.error("page error:", err.message));
    await page.goto(`${harness.url}?ws=${encodeURIComponent(`ws://localhost:${nobody}`)}`);
    ui = page.frameLocator("#plugin-ui");
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await harness?.close();
  });

  it("runs a primitives job in Figma and inserts native shapes beside the layer", async () => {
    await waitText(ui.getByTestId("connection-status"), /Can't reach the companion|Paste the pairing token/, 15_000);
    await page.evaluate(() => (window as unknown as Win).harness.select(["Photo"]));
    await waitText(ui.getByTestId("selection"), "Photo");
    await ui.getByRole("tab", { name: "Primitives" }).click();
    await waitText(ui.getByTestId("in-plugin"), "Running in Figma — faster with the companion");
    await ui.getByText("Draft").click(); // 50 shapes at 128 px
    await ui.getByTestId("stylize").click();
    await waitVisible(ui.locator("canvas.preview"), 30_000);
    expect(await phase("done", 60_000)).toBe("done");
    await page.locator("#plugin-ui").screenshot({ path: join(ARTIFACTS, "10-in-plugin-done.png") });

    const result = (await board()).children!.find((c) => c.name === "Primitives — Photo (50 triangles)");
    expect(result?.type).toBe("FRAME");
    expect(result!.children).toHaveLength(51);
    expect(new Set(result!.children!.slice(1).map((k) => k.type))).toEqual(new Set(["VECTOR"]));
    expect(await commits()).toBe(1);
  }, 120_000);

  it("cancel leaves the document alone and offers the shapes found so far", async () => {
    await setShapes(3000);
    const before = JSON.stringify(await board());
    await ui.getByTestId("stylize").click();
    await waitText(run(), /\d+ \/ 3000 shapes/, 30_000);
    // what is typed while the progress redraws the panel stays until it is committed (Tab)
    const field = ui.getByLabel("Shapes", { exact: true });
    await field.fill("40");
    const progress = await run().textContent();
    await eventually(
      "progress",
      () => run().textContent(),
      (t) => t !== progress,
    );
    expect(await field.inputValue()).toBe("40");
    await field.press("Tab");
    expect(await field.inputValue()).toBe("40");
    await ui.getByRole("button", { name: "Cancel" }).click();
    expect(await phase("cancelled", 10_000)).toBe("cancelled");
    expect(JSON.stringify(await board())).toBe(before);
    const offer = ui.getByRole("button", { name: /Insert the \d+ shapes found so far/ });
    const n = Number(/(\d+)/.exec((await offer.textContent()) ?? "")?.[1]);
    expect(n).toBeGreaterThan(0);
    await offer.click();
    expect(await phase("done", 30_000)).toBe("done");
    expect((await board()).children!.map((c) => c.name)).toContain(`Primitives — Photo (${n} triangles) — partial`);
    expect(await commits()).toBe(2);
  }, 90_000);

  it("a focus layer and a palette of the file's colour styles and variables run end to end: fills use them", async () => {
    const styleIds = await page.evaluate((hexes) => {
      const figma = (window as unknown as { figma: PluginAPI }).figma;
      return hexes.map((hex, i) => {
        const style = figma.createPaintStyle();
        style.name = `Brand/${i}`;
        const n = Number.parseInt(hex.slice(1), 16);
        const color = { r: (n >> 16) / 255, g: ((n >> 8) & 255) / 255, b: (n & 255) / 255 };
        style.paints = [{ type: "SOLID", color }];
        return style.id;
      });
    }, PALETTE);
    // figma-api-stub has no variables API: a colour variable, as Figma's VariablesAPI returns it
    await page.evaluate((hex) => {
      const n = Number.parseInt(hex.slice(1), 16);
      const value = { r: (n >> 16) / 255, g: ((n >> 8) & 255) / 255, b: (n & 255) / 255, a: 1 };
      const variable = {
        id: "VariableID:1:1",
        name: "Brand/red",
        variableCollectionId: "C1",
        valuesByMode: { m1: value },
      };
      (window as unknown as { figma: { variables: unknown } }).figma.variables = {
        getLocalVariablesAsync: async () => [variable],
        getVariableCollectionByIdAsync: async () => ({ defaultModeId: "m1" }),
        getVariableByIdAsync: async (id: string) => (id === variable.id ? variable : null),
        setBoundVariableForPaint: (paint: object, field: string, v: { id: string }) => ({
          ...paint,
          boundVariables: { [field]: { type: "VARIABLE_ALIAS", id: v.id } },
        }),
      };
    }, VARIABLE);
    await page.evaluate(() => (window as unknown as Win).harness.select(["Subject"]));
    await waitText(ui.getByTestId("selection"), "Subject");
    await ui.getByRole("button", { name: "Focus on a region (use selected layer)" }).click();
    await waitText(ui.getByTestId("focus-layer"), "Subject");
    await ui.getByLabel("Focus weight").fill("8");
    await ui.getByLabel("Focus weight").press("Tab");
    await ui.getByRole("button", { name: "Use this file's colour styles" }).click();
    await waitText(ui.getByTestId("palette-note"), "4 colours from your styles and variables");
    expect(await ui.getByLabel("Palette", { exact: true }).inputValue()).toBe([...PALETTE, VARIABLE].join(", "));
    await page.evaluate(() => (window as unknown as Win).harness.select(["Photo"]));
    await waitText(ui.getByTestId("selection"), "Photo");
    await setShapes(20);
    await stylizeAdds("Primitives — Photo (20 triangles)");
    await page.locator("#plugin-ui").screenshot({ path: join(ARTIFACTS, "11-focus-palette-done.png") });
    const shapes = await page.evaluate(() => {
      type N = {
        name: string;
        children?: N[];
        fills?: {
          color: { r: number; g: number; b: number };
          opacity?: number;
          boundVariables?: { color?: { id: string } };
        }[];
        fillStyleId?: string;
        opacity?: number;
      };
      const figma = (window as unknown as { figma: { currentPage: N } }).figma;
      const board = figma.currentPage.children!.find((n) => n.name === "Board")!;
      const frame = board.children!.filter((n) => n.name === "Primitives — Photo (20 triangles)").at(-1)!;
      const hex = (x: number) =>
        Math.round(x * 255)
          .toString(16)
          .padStart(2, "0");
      return frame.children!.slice(1).map((k) => {
        const c = k.fills![0].color;
        const f = k.fills![0];
        return {
          hex: `#${hex(c.r)}${hex(c.g)}${hex(c.b)}`,
          styleId: k.fillStyleId,
          opacity: k.opacity,
          variableId: f.boundVariables?.color?.id,
          paintOpacity: f.opacity,
        };
      });
    });
    expect(shapes).toHaveLength(20);
    for (const s of shapes) {
      if (s.hex === VARIABLE) {
        expect(s.variableId).toBe("VariableID:1:1"); // the colour bound to the variable
        expect(s.paintOpacity).toBeCloseTo(128 / 255, 5); // the paint keeps the shape's alpha
        continue;
      }
      expect(PALETTE).toContain(s.hex);
      expect(s.styleId).toBe(styleIds[PALETTE.indexOf(s.hex)]); // bound to the style of its colour
      expect(s.opacity).toBeCloseTo(128 / 255, 5); // the shape's alpha moved onto the node
    }
    expect(shapes.some((s) => s.hex === VARIABLE)).toBe(true);
    expect(shapes.some((s) => s.hex !== VARIABLE)).toBe(true);
  }, 90_000);

  it("a batch: several layers, one result beside each, progress per layer, a failing layer named", async () => {
    // focus on "Subject" from the test before, which does not overlap "Starry"
    await setShapes(20);
    const commitsBefore = await commits();
    const count = (b: Summary, name: string) => b.children!.filter((c) => c.name === name).length;
    const before = await board();
    await page.evaluate(() => (window as unknown as Win).harness.select(["Starry", "Subject", "Photo"]));
    await waitText(ui.getByTestId("selection"), "3 layers");
    await waitText(ui.getByTestId("selection"), "Photo, Subject, Starry"); // reading order
    await waitText(ui.getByTestId("stylize"), "(3 layers)");
    await ui.getByTestId("stylize").click();
    await waitText(ui.getByTestId("run-line"), /[12] of 3 · (Photo|Subject)/, 30_000);
    expect(await phase("done", 90_000)).toBe("done");
    const line = await ui.getByTestId("run-line").textContent();
    expect(line).toMatch(/^2 of 3 done; Starry: “Subject” does not overlap “Starry”/);
    await page.locator("#plugin-ui").screenshot({ path: join(ARTIFACTS, "13-batch-done.png") });
    const after = await board();
    for (const name of ["Primitives — Photo (20 triangles)", "Primitives — Subject (20 triangles)"])
      expect(count(after, name) - count(before, name), `${name} among ${after.children!.map((c) => c.name)}`).toBe(1);
    expect(after.children!.some((c) => c.name.includes("Starry ("))).toBe(false);
    expect(await commits()).toBe(commitsBefore + 2); // each result its own undo step
    expect(await ui.getByRole("button", { name: "Retry the 1 that failed" }).isVisible()).toBe(true);
  }, 120_000);

  it("a layer with transparency comes back clipped by an alpha mask of itself", async () => {
    // "Subject" renders a light, banded ellipse on transparency
    await ui.getByRole("button", { name: "Clear" }).first().click(); // no focus: Subject is the source now
    await page.evaluate(() => (window as unknown as Win).harness.select(["Subject"]));
    await waitText(ui.getByTestId("selection"), "Subject");
    await stylizeAdds("Primitives — Subject (20 triangles)");
    const kids = await page.evaluate(() => {
      type N = { name: string; children?: N[]; isMask?: boolean; maskType?: string; fills?: { type: string }[] };
      const figma = (window as unknown as { figma: { currentPage: N } }).figma;
      const board = figma.currentPage.children!.find((n) => n.name === "Board")!;
      const frame = board.children!.filter((n) => n.name.startsWith("Primitives — Subject")).at(-1)!;
      return frame.children!.map((k) => ({
        name: k.name,
        isMask: !!k.isMask,
        maskType: k.maskType,
        fill: k.fills?.[0]?.type,
      }));
    });
    expect(kids[0]).toEqual({ name: "Mask", isMask: true, maskType: "ALPHA", fill: "IMAGE" });
    expect(kids[1]).toMatchObject({ name: "Background", isMask: false });
    expect(kids.slice(2).every((k) => !k.isMask)).toBe(true);
  }, 90_000);

  it("a flat colour gets no shapes, and the panel says why", async () => {
    await page.evaluate(() => (window as unknown as Win).harness.select(["Swatch"]));
    await waitText(ui.getByTestId("selection"), "Swatch");
    await stylizeAdds("Primitives — Swatch (0 shapes)");
    await waitText(ui.getByTestId("run-note"), /^No shapes were added: repeated searches found none/);
  }, 90_000);

  it("a focus layer with nothing painted over the layer is named, and nothing changes", async () => {
    await page.evaluate(() => (window as unknown as Win).harness.select(["Glass"]));
    await waitText(ui.getByTestId("selection"), "Glass");
    await ui.getByRole("button", { name: "Focus on a region (use selected layer)" }).click();
    await waitText(ui.getByTestId("focus-layer"), "Glass");
    await page.evaluate(() => (window as unknown as Win).harness.select(["Photo"]));
    await waitText(ui.getByTestId("selection"), "Photo");
    const before = JSON.stringify(await board());
    await ui.getByTestId("stylize").click();
    expect(await phase("failed", 30_000)).toBe("failed");
    await waitText(ui.getByTestId("run-error"), "The focus layer has nothing painted over “Photo”");
    expect(JSON.stringify(await board())).toBe(before);
    await ui.getByRole("button", { name: "Clear" }).first().click(); // no focus for the tests after
  }, 60_000);

  it("gradient fills come back as native linear gradient paints", async () => {
    await page.evaluate(() => (window as unknown as Win).harness.select(["Photo"]));
    await waitText(ui.getByTestId("selection"), "Photo");
    await setShapes(20);
    await ui.getByLabel("Gradient fills").check();
    await stylizeAdds("Primitives — Photo (20 triangles)");
    const paints = await page.evaluate(() => {
      type P = { type: string; gradientTransform?: number[][]; gradientStops?: { position: number }[] };
      type N = { name: string; children?: N[]; fills?: P[] };
      const figma = (window as unknown as { figma: { currentPage: N } }).figma;
      const board = figma.currentPage.children!.find((n) => n.name === "Board")!;
      const frame = board.children!.find((n) => n.name.startsWith("Primitives — Photo (20 "))!;
      return frame.children!.filter((k) => k.name !== "Background" && k.name !== "Mask").map((k) => k.fills![0]);
    });
    expect(paints).toHaveLength(20);
    for (const p of paints) {
      expect(p.type).toBe("GRADIENT_LINEAR");
      expect(p.gradientStops!.map((st) => st.position)).toEqual([0, 1]);
      expect(p.gradientTransform!.flat().every(Number.isFinite)).toBe(true);
    }
    await ui.getByLabel("Gradient fills").uncheck();
  }, 90_000);

  it("style transfer says it needs the companion", async () => {
    await ui.getByRole("tab", { name: "Style transfer" }).click();
    await waitText(ui.locator("main"), "Style transfer needs the companion");
    expect(await ui.getByTestId("stylize").isDisabled()).toBe(true);
    await ui.getByRole("tab", { name: "Primitives" }).click();
  });

  it("in Figma in a browser, it says style transfer needs Figma desktop and primitives still work", async () => {
    const inBrowser = await browser.newPage({ viewport: desktopPage.viewport }); // Chromium's own user agent
    try {
      await inBrowser.goto(page.url());
      const frame = inBrowser.frameLocator("#plugin-ui");
      await waitText(frame.getByTestId("connection-status"), "Local Network Access", 15_000);
      await waitText(frame.getByTestId("connection-status"), "primitives keep working");
      await frame.getByRole("tab", { name: "Style transfer" }).click();
      await waitText(frame.locator("main"), "Style transfer needs the Figma desktop app");
    } finally {
      await inBrowser.close();
    }
  });

  it("finds exactly the shapes Node finds for the same pixels and seed, also with focus and palette (hash)", async () => {
    const image = stripes(96, 64);
    const focus = stripes(96, 64); // any picture works as a mask: its brightness is the weight
    const cases = [
      { shape: "triangle" },
      { shape: "combo", alpha: 0 },
      { shape: "combo", alpha: 0, palette: ["#1d3b8f", "#f2c230", "#ffffff", "#c0392b"], focusWeight: 6 },
      { algorithm: "seed", shape: "rotated-ellipse" },
      { shape: "combo", alpha: 0, fill: "gradient", palette: ["#1d3b8f", "#f2c230", "#ffffff", "#c0392b"] },
      { shape: "rotated-ellipse", fill: "gradient" },
    ];
    for (const [i, c] of cases.entries()) {
      const options = v.parse(PrimitivesOptionsSchema, { count: 12, seed: 5, workSize: 96, ...c });
      const budget = { ...DEFAULT_BUDGET, candidates: 40, age: 40 };
      const withFocus = i === 2 ? focus : undefined;
      const node = await runPrimitives(image, options, { workers: 2, budget, focus: withFocus });
      const [browserRun] = await runInBrowser([image], options, 2, budget, [withFocus]);
      expect(browserRun.list.shapes).toHaveLength(12);
      expect(shapeListHash(browserRun.list), JSON.stringify(c)).toBe(shapeListHash(node.list));
    }
  }, 60_000);
});

/** Diagonal colour bands with a disc: edges at every angle, so rotations and curves matter. */
function stripes(width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const band = Math.floor((x + 2 * y) / 17) % 3;
      const disc = (x - 60) ** 2 + (y - 30) ** 2 < 300;
      const rgb = disc
        ? [250, 210, 40]
        : [
            [30, 60, 140],
            [200, 70, 60],
            [90, 170, 110],
          ][band];
      data.set([...rgb, 255], 4 * (y * width + x));
    }
  }
  return { width, height, data };
}
