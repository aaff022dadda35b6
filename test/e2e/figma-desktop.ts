// The harness plays Figma desktop, an Electron app: its pages carry a desktop user agent (the UI
// words an unreachable companion differently in a browser, see ui/host.ts).
export const FIGMA_DESKTOP_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Figma/125.4.9 Chrome/134.0.6998.179 Electron/35.2.1 Safari/537.36";
/** Page options for a Figma desktop window of the plugin's size. */
export const desktopPage = { viewport: { width: 420, height: 720 }, userAgent: FIGMA_DESKTOP_UA };
