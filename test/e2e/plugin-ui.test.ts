// Browser end-to-end: headless Debian Chromium (playwright-core) runs the harness page, which runs
// the built plugin (dist/code.js) against figma-api-stub and the built UI (dist/ui.html) in an
// iframe; the UI talks to a real companion process. Screenshots go to test-artifacts/e2e/.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type FrameLocator, type Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Companion, freePort, startCompanion } from "./companion";
import type { Summary } from "./harness/page";
import { desktopPage } from "./figma-desktop";
import { serveHarness } from "./serve";
import { eventually, waitText, waitVisible } from "./wait";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = "test-artifacts/e2e";
const haveChromium = existsSync(CHROMIUM);
const inCi = Boolean(process.env.CI);
if (!haveChromium && !inCi)
  console.warn(`e2e skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

// Developers without Chromium get a warning and a skip; in CI (.ci/run installs it) a missing
// Chromium must fail the run rather than silently hide the e2e.
describe.runIf(!haveChromium && inCi)("e2e prerequisites in CI", () => {
  it("has Chromium", () => {
    expect.fail(`no Chromium at ${CHROMIUM} in CI (apt-get install chromium, or set CHROMIUM_PATH)`);
  });
});

type NodeView = Summary & {
  parent: string;
  absolute: { x: number; y: number; width: number; height: number };
  fills: { type: string; imageHash?: string }[];
  clipsContent?: boolean;
  visible: boolean;
  relaunch: Record<string, string>;
  imageHead: number[] | null;
  imageBytes: number;
};
type Harness = {
  select(names: string[]): void;
  board(): Summary;
  commits(): number;
  uiOrigin(): string;
  node(name: string): NodeView | null;
};

let browser: Browser;
let page: Page;
let ui: FrameLocator;
let companion: Companion;
let port: number;
let tokenDir: string;
let harness: { url: string; close(): Promise<void> };

// these run inside the page (playwright serialises them), where the harness lives on window
type Win = { harness: Harness };
const select = (...names: string[]) => page.evaluate((n) => (window as unknown as Win).harness.select(n), names);
const board = () => page.evaluate(() => (window as unknown as Win).harness.board());
const node = (name: string) => page.evaluate((n) => (window as unknown as Win).harness.node(n), name);
const commits = () => page.evaluate(() => (window as unknown as Win).harness.commits());
const uiOrigin = () => page.evaluate(() => (window as unknown as Win).harness.uiOrigin());
const shot = (name: string) => page.locator("#plugin-ui").screenshot({ path: join(ARTIFACTS, `${name}.png`) });
const status = () => ui.getByTestId("connection-status");
const run = () => ui.getByTestId("run");
/** Wait for the run to end; a failure shows its message instead of a bare timeout. */
async function runFinished(timeout: number) {
  const phase = await eventually(
    "the run to end",
    () => run().getAttribute("data-phase"),
    (p) => ["done", "failed", "cancelled"].includes(p ?? ""),
    timeout,
  );
  if (phase !== "done")
    throw new Error(
      `run ${phase}: ${await ui
        .getByTestId("run-error")
        .textContent()
        .catch(() => "")}`,
    );
}

describe.skipIf(!haveChromium)("plugin + UI in a browser, against a real companion", () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    tokenDir = mkdtempSync(join(tmpdir(), "stylize-e2e-"));
    port = await freePort();
    [companion, harness, browser] = await Promise.all([
      startCompanion(port, join(tokenDir, "token")),
      serveHarness(),
      chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      }),
    ]);
    page = await browser.newPage(desktopPage);
    page.on("pageerror", (err) => console.error("page error:", err.message));
    await page.goto(`${harness.url}?ws=${encodeURIComponent(companion.url)}`);
    ui = page.frameLocator("#plugin-ui");
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await companion?.kill();
    await harness?.close();
    if (tokenDir) rmSync(tokenDir, { recursive: true, force: true });
  });

  it("pairs with the token, then turns the layer into 50 native shapes beside it", async () => {
    // first run: no token yet, so the companion refuses and the UI asks for it
    await waitText(status(), "Paste the pairing token", 15_000);
    await ui.getByLabel("Pairing token").fill(companion.token);
    // The address field takes a studio's wss:// front door, and refuses plain ws:// to another computer.
    const address = ui.getByLabel("Companion address");
    await address.fill("ws://192.168.1.20:47615");
    await waitText(ui.getByTestId("address-problem"), "needs wss://");
    await address.fill("wss://gpu-box.studio.lan:47615");
    await ui.getByTestId("address-problem").waitFor({ state: "detached", timeout: 5000 });
    await address.fill(companion.url);
    await ui.getByRole("button", { name: "Pair" }).click();
    await waitText(status(), "Connected to companion", 15_000);
    expect(await uiOrigin()).toBe("null"); // an opaque origin, as in Figma
    await waitText(ui.getByTestId("selection"), "Select one layer");
    await select("Photo", "Starry");
    await waitText(ui.getByTestId("selection"), "2 layers (Photo, Starry) — one result beside each");
    await select("Photo");
    await waitText(ui.getByTestId("selection"), "Photo");
    await shot("01-connected");

    await ui.getByRole("tab", { name: "Primitives" }).click();
    await ui.getByText("Draft").click(); // 50 shapes at 128 px
    await ui.getByTestId("stylize").click();
    await waitVisible(ui.locator("canvas.preview"), 30_000);
    await shot("02-primitives-running");
    await runFinished(60_000);
    await shot("03-primitives-done");

    const result = await node("Primitives — Photo (50 triangles)");
    expect(result).not.toBeNull();
    const photo = (await node("Photo"))!;
    expect(result!.type).toBe("FRAME");
    expect([result!.x, result!.y, result!.width, result!.height]).toEqual([photo.x + 320 + 40, photo.y, 320, 240]);
    expect(result!.clipsContent).toBe(true);
    expect(result!.visible).toBe(true);
    expect(result!.relaunch).toHaveProperty("stylize-again");
    const kids = result!.children!;
    expect(kids).toHaveLength(51);
    expect(kids[0]).toMatchObject({ name: "Background", type: "RECTANGLE", width: 320, height: 240 });
    expect(new Set(kids.slice(1).map((k) => k.type))).toEqual(new Set(["VECTOR"]));
    expect(kids[1].name).toBe("Triangle 1");
    expect(await commits()).toBe(1);
    // the source is untouched
    expect([photo.x, photo.y, photo.width, photo.height]).toEqual([40, 40, 320, 240]);
  }, 120_000);

  it("a card in an auto-layout row and an icon inside an instance: results go beside, nothing reflows", async () => {
    const cardsBefore = (await node("Cards"))!.children;
    expect(cardsBefore!.map((c) => [c.name, c.x, c.y])).toEqual([
      ["Card A", 20, 20],
      ["Card B", 200, 20],
      ["Card C", 380, 20],
    ]);
    for (const [source, width] of [
      ["Card B", 160],
      ["Icon", 160],
    ] as const) {
      await select(source);
      await waitText(ui.getByTestId("selection"), source);
      await ui.getByTestId("stylize").click();
      await runFinished(60_000);
      const result = (await node(`Primitives — ${source} (50 triangles)`))!;
      const src = (await node(source))!;
      expect(result.parent).toBe("Board");
      expect(result.absolute).toEqual({ x: src.absolute.x + width + 40, y: src.absolute.y, width, height: 100 });
    }
    expect((await node("Cards"))!.children).toEqual(cardsBefore);
    expect((await node("Button"))!.children!.map((c) => c.name)).toEqual(["Icon"]);
    await shot("03b-auto-layout-and-instance");
  }, 120_000);

  it("style transfer with a layer as style and a region mask inserts an image-filled rectangle", async () => {
    // keyboard: arrow keys move between the mode tabs
    await ui.getByRole("tab", { name: "Primitives" }).focus();
    await page.keyboard.press("ArrowLeft");
    await eventually(
      "style tab selected and focused",
      () =>
        ui
          .getByRole("tab", { name: "Style transfer" })
          .evaluate((el) => [el.getAttribute("aria-selected"), el === document.activeElement]),
      ([selected, focused]) => selected === "true" && focused === true,
    );
    await select("Starry");
    await ui.getByRole("button", { name: "Use selected layer as style" }).click();
    await waitVisible(ui.getByText("▦ Starry"));
    await select("Subject");
    await ui.getByRole("button", { name: /Limit the style to a region/ }).click();
    await waitText(ui.getByText(/applies only inside/), "Subject");
    await select("Photo");
    await ui.getByText("Advanced options").click();
    await ui.getByLabel("Iterations").fill("4");
    await ui.getByLabel("Iterations").press("Tab");
    await ui.getByLabel("Size (px)").fill("48");
    await ui.getByLabel("Size (px)").press("Tab");
    await shot("04-style-setup");
    await ui.getByText("Advanced options").click(); // fold away again, so the result shows
    const committed = await commits();
    await ui.getByTestId("stylize").click();
    await runFinished(90_000);
    await shot("05-style-done");
    // the preview is a data: image, which Figma's CSP allows (blob: URLs fail there)
    const preview = ui.locator("img.preview");
    expect(await preview.getAttribute("src")).toMatch(/^data:image\/png;base64,/);
    expect(await preview.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    // the companion runs with random weights here, and the designer is told what that means
    await waitText(ui.getByTestId("run-note").first(), /random weights.*not artistic/i);

    const styled = await node("Photo — styled as Starry");
    expect(styled).not.toBeNull();
    expect(styled!.type).toBe("RECTANGLE");
    expect([styled!.width, styled!.height]).toEqual([320, 240]);
    expect(styled!.fills[0].type).toBe("IMAGE");
    expect(styled!.imageHead).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]); // a PNG
    expect(styled!.imageBytes).toBeGreaterThan(100);
    expect(await commits()).toBe(committed + 1);

    // an uploaded file works as the style too
    await ui.getByRole("button", { name: "Remove Starry" }).click();
    await ui.getByRole("button", { name: "Clear" }).click();
    const waves = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#2a6f97" } })
      .composite([
        {
          input: Buffer.from(
            '<svg width="64" height="64"><path d="M0 32 Q16 8 32 32 T64 32" stroke="#fff" stroke-width="6" fill="none"/></svg>',
          ),
        },
      ])
      .png()
      .toBuffer();
    await ui.getByTestId("style-upload").setInputFiles({ name: "waves.png", mimeType: "image/png", buffer: waves });
    await waitVisible(ui.getByText("waves.png"));
    await ui.getByTestId("stylize").click();
    await runFinished(90_000);
    const fromFile = await node("Photo — styled as waves");
    expect(fromFile?.fills[0].type).toBe("IMAGE");
    expect(await commits()).toBe(committed + 2);
  }, 150_000);

  it("style transfer on a batch through the companion: one styled result beside each layer, each its own undo step", async () => {
    // settings from the test before: the uploaded waves.png as style, no region, 48 px, 4 iterations
    const committed = await commits();
    await select("Starry", "Photo");
    await waitText(ui.getByTestId("stylize"), "Stylize (2 layers)");
    await ui.getByTestId("stylize").click();
    await runFinished(120_000);
    expect(await ui.getByTestId("run-line").textContent()).toBe("Done: 2 results, each beside its layer.");
    const starry = await node("Starry — styled as waves");
    expect(starry?.fills[0].type).toBe("IMAGE");
    expect([starry!.width, starry!.height]).toEqual([200, 200]);
    expect(await commits()).toBe(committed + 2); // each its own undo step
    await select("Photo"); // the next tests run on one layer
    await waitText(ui.getByTestId("selection"), "Layer: Photo");
  }, 150_000);

  it("Stylize as shapes: the painting, then its shapes, inserted as one frame of vectors in one undo step", async () => {
    // settings from the tests before: waves.png as style, 48 px, 4 iterations; 12 triangles here
    const committed = await commits();
    await ui.getByLabel("Number of shapes").fill("12");
    await ui.getByLabel("Number of shapes").press("Tab");
    await ui.getByLabel("Shape", { exact: true }).selectOption("triangle");
    // what the run panel says over the run, in order (each stage can be too quick to poll for)
    await ui.locator("body").evaluate((body) => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      new MutationObserver(() => {
        const run = document.querySelector('[data-testid="run"]');
        const line = `${run?.getAttribute("data-stage")}: ${run?.querySelector(".phase")?.textContent}`;
        if (run && seen[seen.length - 1] !== line) seen.push(line);
      }).observe(body, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    await ui.getByTestId("stylize-shapes").click();
    await runFinished(120_000);
    await shot("05b-style-shapes-done");
    const seen = await ui.locator("body").evaluate(() => (window as unknown as { seen: string[] }).seen);
    const painting = seen.indexOf("painting: Painting…");
    expect(painting, seen.join(" | ")).toBeGreaterThanOrEqual(0);
    expect(seen.indexOf("shapes: Shapes…"), seen.join(" | ")).toBeGreaterThan(painting);
    expect(await ui.getByTestId("run-line").textContent()).toBe(
      "Added “Photo — shapes in the style of waves” beside the layer.",
    );
    const frame = await node("Photo — shapes in the style of waves");
    expect(frame?.type).toBe("FRAME");
    expect([frame!.width, frame!.height]).toEqual([320, 240]);
    const kids = frame!.children!;
    expect(kids[0]).toMatchObject({ name: "Background", type: "RECTANGLE" });
    expect(kids.slice(1).map((k) => k.type)).toEqual(Array(12).fill("VECTOR"));
    expect(await commits()).toBe(committed + 1);
  }, 150_000);

  it("companion stopped mid-job: UI reconnects, document untouched, retry succeeds", async () => {
    await ui.getByRole("tab", { name: "Primitives" }).click();
    if (!(await ui.getByLabel("Shapes", { exact: true }).isVisible())) await ui.getByText("Advanced options").click();
    await ui.getByLabel("Shapes", { exact: true }).fill("3000");
    await ui.getByLabel("Shapes", { exact: true }).press("Tab");
    const before = JSON.stringify(await board());
    const committed = await commits();
    await ui.getByTestId("stylize").click();
    await waitVisible(ui.locator("canvas.preview"), 30_000); // shapes are streaming
    await companion.kill();

    await waitText(status(), /reconnecting|Can't reach the companion/, 15_000);
    await waitText(ui.getByTestId("run-error"), /companion/i);
    await shot("06-companion-stopped");
    expect(JSON.stringify(await board())).toBe(before);
    expect(await commits()).toBe(committed);

    companion = await startCompanion(port, join(tokenDir, "token"));
    await waitText(status(), "Connected to companion", 30_000);
    await ui.getByLabel("Shapes", { exact: true }).fill("30");
    await ui.getByLabel("Shapes", { exact: true }).press("Tab");
    await ui.getByRole("button", { name: "Retry" }).click();
    await runFinished(60_000);
    await shot("07-retry-done");
    expect(await node("Primitives — Photo (30 triangles)")).not.toBeNull();
    expect(await commits()).toBe(committed + 1);
  }, 150_000);

  it("Cancel leaves the document alone and offers the shapes found so far as one undo step", async () => {
    await ui.getByLabel("Shapes", { exact: true }).fill("3000");
    await ui.getByLabel("Shapes", { exact: true }).press("Tab");
    const before = JSON.stringify(await board());
    const committed = await commits();
    await ui.getByTestId("stylize").click();
    await eventually(
      "a few shapes",
      () =>
        ui
          .locator("canvas.preview")
          .getAttribute("aria-label", { timeout: 1000 })
          .catch(() => ""),
      (label) => Number(/(\d+) shapes/.exec(label ?? "")?.[1] ?? 0) >= 5,
      30_000,
    );
    // keyboard: focus Cancel and press Enter
    await ui.getByRole("button", { name: "Cancel" }).focus();
    await page.keyboard.press("Enter");
    await eventually(
      "cancelled",
      () => run().getAttribute("data-phase"),
      (p) => p === "cancelled",
      30_000,
    );
    expect(JSON.stringify(await board())).toBe(before);
    expect(await commits()).toBe(committed);
    const offer = ui.getByRole("button", { name: /Insert the \d+ shapes found so far/ });
    const n = Number(/(\d+)/.exec((await offer.textContent()) ?? "")?.[1]);
    expect(n).toBeGreaterThanOrEqual(5);
    await shot("08-cancelled");
    await offer.click();
    await runFinished(30_000);
    const names = (await board()).children!.map((c) => c.name);
    expect(names).toContain(`Primitives — Photo (${n} triangles) — partial`);
    expect(await commits()).toBe(committed + 1);
  }, 120_000);

  it("an address the manifest does not allow is reported as blocked by Figma's network policy", async () => {
    const other = await browser.newPage(desktopPage);
    try {
      // the companion is running, but the CSP (from manifest.json) allows only the localhost name
      const blocked = `ws://127.0.0.1:${port}`;
      await other.goto(`${harness.url}?ws=${encodeURIComponent(blocked)}&token=${encodeURIComponent(companion.token)}`);
      const status2 = other.frameLocator("#plugin-ui").getByTestId("connection-status");
      await waitText(status2, `Figma's network policy blocked ${blocked}`, 15_000);
      await other.locator("#plugin-ui").screenshot({ path: join(ARTIFACTS, "12-address-blocked.png") });
    } finally {
      await other.close();
    }
  }, 60_000);

  it("without VGG-19 weights, style mode says how to get them (token remembered from an earlier session)", async () => {
    const cache = mkdtempSync(join(tmpdir(), "stylize-e2e-cache-"));
    const bare = await startCompanion(await freePort(), join(tokenDir, "token"), cache);
    const other = await browser.newPage(desktopPage);
    try {
      // the harness seeds clientStorage with the token, as a previous session would have saved it
      await other.goto(`${harness.url}?ws=${encodeURIComponent(bare.url)}&token=${encodeURIComponent(bare.token)}`);
      const ui2 = other.frameLocator("#plugin-ui");
      await waitText(ui2.getByTestId("connection-status"), "Connected to companion", 15_000);
      await ui2.getByRole("tab", { name: "Style transfer" }).click();
      await waitText(ui2.getByTestId("weights-missing"), "VGG-19 weights missing — run npx stylize weights fetch");
      await other.locator("#plugin-ui").screenshot({ path: join(ARTIFACTS, "09-weights-missing.png") });
    } finally {
      await other.close();
      await bare.kill();
      rmSync(cache, { recursive: true, force: true });
    }
  }, 60_000);
});
