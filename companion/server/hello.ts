// The server's `hello`: versions, devices, weights and limits. Device probing (GPU checks in child
// processes) starts once, in the background, and never delays or fails a hello.
import { setTimeout as delay } from "node:timers/promises";
import { PROTOCOL_VERSION, type ServerMessage } from "../../shared/protocol";
import type { Logger } from "../log";
import { VERSION } from "../version";
import type { ServerConfig } from "./config";
import type { DeviceInfo, Engines } from "./engines";

/** How long a hello waits for GPU probing before answering with what is known. */
const HELLO_DEVICE_WAIT_MS = 1500;
const STILL_PROBING: DeviceInfo[] = [
  { name: "cpu", available: true },
  { name: "webgpu", available: false, reason: "still checking; send hello again for an update" },
  { name: "cuda", available: false, reason: "still checking; send hello again for an update" },
];

export function helloBuilder(config: ServerConfig, engines: Engines, log: Logger): () => Promise<ServerMessage> {
  let devices: DeviceInfo[] | undefined;
  let probing: Promise<DeviceInfo[]> | undefined;
  const probeDevices = () => {
    probing ??= engines
      .listDevices()
      .catch((err): DeviceInfo[] => {
        log.warn({ err }, "could not list devices; reporting CPU only");
        return [{ name: "cpu", available: true }];
      })
      .then((list) => (devices = list));
    return probing;
  };
  return async () => {
    await Promise.race([probeDevices(), delay(HELLO_DEVICE_WAIT_MS, undefined, { ref: false })]);
    const weights = await engines.weights(config.weights).catch(() => ({ spec: config.weights, installed: false }));
    const { maxMessageBytes, maxImagePixels, maxJobsPerClient } = config.limits;
    return {
      type: "hello",
      protocol: PROTOCOL_VERSION,
      version: VERSION,
      devices: devices ?? STILL_PROBING,
      weights: { installed: weights.installed, ...(weights.spec ? { path: weights.spec } : {}) },
      limits: { maxMessageBytes, maxImagePixels, maxJobsPerClient },
    };
  };
}
