// One build for the three targets: the Figma sandbox bundle, the single-file UI, the companion.
import { build } from "esbuild";
import { mkdir, readFile, writeFile, chmod } from "node:fs/promises";

const minify = process.argv.includes("--minify");
await mkdir("dist", { recursive: true });

// Figma's sandbox: one classic script, ES2017 syntax is safest, no DOM/Node/network.
await build({
  entryPoints: ["plugin/main.ts"],
  bundle: true,
  outfile: "dist/code.js",
  format: "iife",
  target: "es2017",
  minify,
  logLevel: "warning",
});

// The in-plugin primitives worker. Figma's null-origin iframe refuses blob: workers, so the UI
// starts it from a data: URL, inlined like everything else.
const worker = await build({
  entryPoints: ["ui/primitives-worker.ts"],
  bundle: true,
  write: false,
  format: "iife",
  target: "es2020",
  minify: true,
  logLevel: "warning",
});
const workerUrl = `data:text/javascript;base64,${Buffer.from(worker.outputFiles[0].contents).toString("base64")}`;
const define = { PRIMITIVES_WORKER_URL: JSON.stringify(workerUrl) };

// The UI iframe: Figma loads one HTML file, so JS and CSS are inlined into it.
const ui = await build({
  entryPoints: ["ui/main.tsx"],
  bundle: true,
  write: false,
  outdir: "dist/ui-tmp",
  format: "iife",
  target: "es2020",
  jsx: "automatic",
  jsxImportSource: "preact",
  loader: { ".css": "css", ".module.css": "local-css" },
  define,
  minify,
  logLevel: "warning",
});
const js = ui.outputFiles
  .filter((f) => f.path.endsWith(".js"))
  .map((f) => f.text)
  .join("\n");
const css = ui.outputFiles
  .filter((f) => f.path.endsWith(".css"))
  .map((f) => f.text)
  .join("\n");
const shell = await readFile("ui/index.html", "utf8");
const safeJs = js.replaceAll("</script", "<\\/script");
await writeFile(
  "dist/ui.html",
  shell
    .replace("<!--STYLE-->", () => `<style>${css}</style>`)
    .replace("<!--SCRIPT-->", () => `<script>${safeJs}</script>`),
);

// `bench primitives --browser` loads this page script in headless Chromium: the UI's worker pool
// and engine, nothing else.
await build({
  entryPoints: ["ui/bench-page.ts"],
  bundle: true,
  outfile: "dist/primitives-bench.js",
  format: "iife",
  target: "es2020",
  define,
  minify,
  logLevel: "warning",
});

// The companion: ESM for Node 20; dependencies stay in node_modules (native sharp/onnxruntime).
await build({
  entryPoints: {
    stylize: "companion/cli.ts",
    "primitives-worker": "companion/primitives/worker.ts",
  },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outdir: "dist/companion",
  packages: "external",
  sourcemap: true,
  banner: { js: "#!/usr/bin/env node" },
  logLevel: "warning",
});
await chmod("dist/companion/stylize.js", 0o755);
