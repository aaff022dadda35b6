// Figma desktop or Figma in a browser: the companion on this computer is out of reach in a browser,
// and the UI says so instead of blaming a stopped companion or the manifest.
import { describe, expect, it } from "vitest";
import type { ConnectionState } from "../../ui/companion";
import { figmaHost } from "../../ui/host";
import { connectionText, styleNeedsCompanionText } from "../../ui/messages";

const UA = {
  desktop:
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Figma/125.4.9 Chrome/134.0.6998.179 Electron/35.2.1 Safari/537.36",
  chrome:
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36",
  edge: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/147.0.0.0 Safari/537.36 Edg/147.0.0.0",
  safari:
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.4 Safari/605.1.15",
  headless:
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
  firefox: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:139.0) Gecko/20100101 Firefox/139.0",
};
const unreachable = (url: string): ConnectionState => ({
  state: "reconnecting",
  url,
  attempt: 1,
  delayMs: 2000,
  everConnected: false,
});

describe("Figma desktop or a browser", () => {
  it("tells Figma desktop (Electron) from browsers, and Safari from the rest", () => {
    expect(figmaHost(UA.desktop)).toBe("desktop");
    expect(figmaHost(UA.chrome)).toBe("browser");
    expect(figmaHost(UA.edge)).toBe("browser");
    expect(figmaHost(UA.firefox)).toBe("browser");
    expect(figmaHost(UA.headless)).toBe("browser");
    expect(figmaHost(UA.safari)).toBe("safari");
  });

  it("in a browser, an unreachable local companion is explained, with what still works", () => {
    const chrome = connectionText(unreachable("ws://localhost:47615"), true, figmaHost(UA.chrome)).text;
    expect(chrome).toMatch(/Local Network Access/);
    expect(chrome).toMatch(/needs the Figma desktop app.*primitives keep working/);
    expect(chrome).not.toMatch(/npm start|manifest|network policy/);
    const safari = connectionText(unreachable("ws://localhost:47615"), true, figmaHost(UA.safari)).text;
    expect(safari).toMatch(/Safari.*ws:\/\/localhost/);
    expect(safari).toMatch(/needs the Figma desktop app/);
    expect(styleNeedsCompanionText("browser")).toMatch(/Figma desktop app/);
  });

  it("in Figma desktop, and for a studio's address anywhere, the words stay as they were", () => {
    expect(connectionText(unreachable("ws://localhost:47615"), true, "desktop").text).toMatch(/npm start/);
    expect(styleNeedsCompanionText("desktop")).toMatch(/npm start/);
    expect(connectionText(unreachable("wss://gpu-box.studio.lan:47615"), true, "browser").text).toMatch(
      /Can't reach the companion at wss:\/\/gpu-box/,
    );
  });
});
