import { describe, expect, it } from "vitest";
import * as v from "valibot";
import {
  defaultSettings,
  JobSettingsSchema,
  parsePluginMessage,
  parseSettings,
  parseUiMessage,
} from "../../shared/plugin-messages";

describe("plugin ⇄ UI message schema", () => {
  it("fills defaults and keeps the good fields of stale or hand-edited settings", () => {
    expect(parseSettings(undefined)).toEqual(defaultSettings());
    const s = parseSettings({ token: "abc", mode: "sideways", primitives: { count: 10 } });
    expect(s.token).toBe("abc");
    expect(s.mode).toBe(defaultSettings().mode);
    expect(s.primitives).toMatchObject({ count: 10, shape: "triangle" });
    expect(parseSettings("garbage")).toEqual(defaultSettings());
  });

  it("only accepts loopback-style WebSocket addresses for the companion", () => {
    expect(parseSettings({ companionUrl: "ws://127.0.0.1:1234" }).companionUrl).toBe("ws://127.0.0.1:1234");
    expect(parseSettings({ companionUrl: "http://evil.example" }).companionUrl).toBe("ws://localhost:47615");
  });

  it("defaults to ws://localhost:47615, the one address manifest.json allows", () => {
    expect(defaultSettings().companionUrl).toBe("ws://localhost:47615");
  });

  it("migrates a stored companion address that is still the old IP-literal default", () => {
    for (const old of ["ws://127.0.0.1:47615", "ws://127.0.0.1:47615/", "ws://[::1]:47615"]) {
      expect(parseSettings({ token: "t", companionUrl: old })).toMatchObject({
        token: "t",
        companionUrl: "ws://localhost:47615",
      });
    }
    // Other ports are a deliberate choice (tests, a second companion): left as they are.
    expect(parseSettings({ companionUrl: "ws://127.0.0.1:1234" }).companionUrl).toBe("ws://127.0.0.1:1234");
    expect(parseSettings({ companionUrl: "ws://localhost:47615" }).companionUrl).toBe("ws://localhost:47615");
  });

  it("gives stored style settings that still hold the old loss weights today's defaults", () => {
    const today = defaultSettings().style;
    const old = { contentWeight: 5, styleWeight: 100, tvWeight: 1e-3 };
    expect(parseSettings({ style: { ...old, size: 1024 } }).style).toMatchObject({
      size: 1024,
      contentWeight: today.contentWeight,
      styleWeight: today.styleWeight,
      tvWeight: today.tvWeight,
    });
    // The same for settings stored on a result in the document ("Stylize again").
    expect(v.parse(JobSettingsSchema, { mode: "style", style: old }).style.styleWeight).toBe(today.styleWeight);
    // A weight the designer set by hand is theirs.
    expect(parseSettings({ style: { ...old, styleWeight: 250 } }).style).toMatchObject({ ...old, styleWeight: 250 });
  });

  it("insists on real bytes for images and names the bad field", () => {
    const source = { id: "1:2", name: "P", type: "RECTANGLE", width: 1, height: 1 };
    const ok = parsePluginMessage({
      type: "job-images",
      requestId: "r",
      source,
      content: new Uint8Array(1),
      styles: [],
    });
    expect(ok.ok).toBe(true);
    const bad = parsePluginMessage({ type: "job-images", requestId: "r", source, content: [1, 2], styles: [] });
    expect(bad).toEqual({ ok: false, error: expect.stringMatching(/^content: expected image bytes/) });
  });

  it("rejects unknown message types and bad request ids", () => {
    expect(parseUiMessage({ type: "format-disk" }).ok).toBe(false);
    expect(parseUiMessage({ type: "prepare-job", requestId: "../x", workSize: 256 }).ok).toBe(false);
    expect(parseUiMessage({ type: "prepare-job", requestId: "r1", workSize: 256 })).toMatchObject({
      ok: true,
      value: { styleLayerIds: [] },
    });
  });
});
