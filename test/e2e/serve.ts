// Serves the harness page, its bundled script and the built plugin files on loopback. The plugin UI
// is served with Figma's CSP for this manifest (see harness/figma-csp.ts); the harness page puts it
// in a sandboxed, opaque-origin iframe as Figma does.
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { build } from "esbuild";
import { figmaCsp } from "./harness/figma-csp";

const HTML = `<!doctype html><html><head><meta charset="utf-8"><title>Stylize e2e harness</title>
<style>body{margin:0;background:#e5e5e5}iframe{border:0;background:#fff;display:block}</style></head>
<body><script src="/harness.js"></script></body></html>`;

export async function bundleHarness(): Promise<string> {
  const out = await build({
    entryPoints: ["test/e2e/harness/page.ts"],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: "es2022",
    define: { global: "globalThis" }, // figma-api-stub is written for Node
    logLevel: "warning",
  });
  return out.outputFiles[0].text;
}

export async function serveHarness(): Promise<{ url: string; close(): Promise<void> }> {
  const harnessJs = await bundleHarness();
  const manifest = JSON.parse(await readFile("manifest.json", "utf8"));
  const files: Record<string, [string, () => Promise<string | Buffer>]> = {
    "/": ["text/html", async () => HTML],
    "/harness.js": ["text/javascript", async () => harnessJs],
    "/dist/code.js": ["text/javascript", () => readFile("dist/code.js")],
    "/dist/ui.html": ["text/html", () => readFile("dist/ui.html")],
  };
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const entry = files[url.pathname];
    if (!entry) {
      res.writeHead(404).end();
      return;
    }
    const headers: Record<string, string> = { "content-type": entry[0], "cache-control": "no-store" };
    if (url.pathname === "/dist/ui.html") {
      headers["content-security-policy"] = figmaCsp(manifest, Number(url.searchParams.get("port")));
    }
    res.writeHead(200, headers);
    res.end(await entry[1]());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
