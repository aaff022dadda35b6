// The plugin's companion address field: the local ws:// companion, or a studio's over wss://.
import { describe, expect, it } from "vitest";
import { addressNotAllowedText, addressProblem } from "../../ui/messages";
import { MANIFEST_ADDRESSES, manifestAllows } from "../../ui/network-access";

describe("companion address", () => {
  it("accepts the local companion and wss://host:port front doors", () => {
    for (const ok of [
      "ws://127.0.0.1:47615",
      "ws://localhost:47615",
      "ws://[::1]:47615",
      "wss://gpu-box.studio.lan:47615",
      "wss://192.168.1.20:47615",
      "wss://[fd00::20]:47615/",
    ]) {
      expect(addressProblem(ok), ok).toBeNull();
    }
  });

  it("refuses plain ws:// to another computer, and what is not an address, in words", () => {
    expect(addressProblem("ws://192.168.1.20:47615")).toMatch(/needs wss:\/\//);
    expect(addressProblem("ws://gpu-box.lan:47615")).toMatch(/needs wss:\/\//);
    for (const bad of ["http://127.0.0.1:47615", "127.0.0.1:47615", "wss://", "wss://host:port", "wss://a b:1"]) {
      expect(addressProblem(bad), bad).toMatch(/looks like ws:\/\/localhost:47615/);
    }
  });

  it("warns where the address is typed when the manifest does not allow it, pointing to the README's team section", () => {
    expect(MANIFEST_ADDRESSES).toEqual(["ws://localhost:47615"]);
    expect(manifestAllows("ws://localhost:47615")).toBe(true);
    expect(manifestAllows("ws://localhost:47615/")).toBe(true);
    const studio = "wss://gpu-box.studio.lan:47615";
    expect(addressProblem(studio)).toBeNull(); // a fine address…
    expect(manifestAllows(studio)).toBe(false); // …that Figma's policy blocks until the manifest lists it
    expect(manifestAllows(studio, ["ws://localhost:47615", studio])).toBe(true);
    const text = addressNotAllowedText(studio, MANIFEST_ADDRESSES);
    expect(text).toMatch(/manifest\.json.*will block wss:\/\/gpu-box/);
    expect(text).toMatch(/Run it for a team/);
  });
});
