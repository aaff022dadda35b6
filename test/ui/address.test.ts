// The plugin's companion address field: the local ws:// companion, or a studio's over wss://.
import { describe, expect, it } from "vitest";
import { addressProblem } from "../../ui/messages";

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
});
