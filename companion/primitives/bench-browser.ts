// `bench primitives --browser`: the in-plugin engine (dist/primitives-bench.js: the UI's Web Worker
// pool over the shared engine) in headless Chromium, on exactly the pixels the Node run gets.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { SearchBudget } from "../../shared/primitives/search";
import type { PrimitivesOptions } from "../../shared/protocol";
import type { ShapeList } from "../../shared/shapes";
import { UserError } from "../errors";
import type { RgbaImage } from "../image";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Built by build.mjs beside the companion bundle (or in dist/ when running from the sources). */
const PAGE_SCRIPT = import.meta.url.endsWith(".ts")
  ? new URL("../../dist/primitives-bench.js", import.meta.url)
  : new URL("../primitives-bench.js", import.meta.url);

export interface BrowserRun {
  list: ShapeList;
  ms: number;
}

/** sha256 of the shape list as JSON: equal hashes = the identical result. */
export function shapeListHash(list: ShapeList): string {
  return createHash("sha256").update(JSON.stringify(list)).digest("hex");
}

/** Runs each image (already at the working size, with its focus mask at that size if any) in one headless Chromium page. */
export async function runInBrowser(
  images: RgbaImage[],
  options: PrimitivesOptions,
  workers: number,
  budget: SearchBudget,
  focus: (RgbaImage | undefined)[] = [],
): Promise<BrowserRun[]> {
  if (!existsSync(CHROMIUM))
    throw new UserError(
      "bad-message",
      `--browser needs Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
    );
  const script = fileFromBuild();
  const { chromium } = await import("playwright-core").catch(() => {
    throw new UserError("bad-message", "--browser needs the dev dependency playwright-core (npm install)");
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu"],
  });
  try {
    const page = await browser.newPage();
    await page.setContent("<!doctype html><title>stylize bench</title>");
    await page.addScriptTag({ content: await readFile(script, "utf8") });
    const runs: BrowserRun[] = [];
    for (const [i, img] of images.entries()) {
      const mask = focus[i] ? Array.from(focus[i].data) : undefined;
      runs.push(
        await page.evaluate(
          ([rgba, w, h, opts, n, b, m]) =>
            (
              globalThis as unknown as {
                runPrimitivesInBrowser(...a: unknown[]): Promise<BrowserRun>;
              }
            ).runPrimitivesInBrowser(rgba, w, h, opts, n, b, m),
          [Array.from(img.data), img.width, img.height, options, workers, budget, mask] as const,
        ),
      );
    }
    return runs;
  } finally {
    await browser.close();
  }
}

function fileFromBuild(): URL {
  if (!existsSync(PAGE_SCRIPT))
    throw new UserError("bad-message", "run `npm run build` first (no dist/primitives-bench.js)");
  return PAGE_SCRIPT;
}
