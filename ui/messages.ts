// Plain-language text for connection states and job errors: what happened and what to do.
import { chooseDevice, DEVICE_LABEL, type DeviceInfo } from "../shared/devices";
import { DEFAULT_COMPANION_URL, type ErrorCode, PROTOCOL_VERSION } from "../shared/protocol";
import type { ConnectionState } from "./companion";
import type { FigmaHost } from "./host";

export const START_HINT = "start it with `npm start`";
export const WEIGHTS_HINT = "VGG-19 weights missing — run `npx stylize weights fetch`";

const LOOPBACK = /^wss?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?\/?$/;

/** Figma in a browser: why the companion on this computer is out of reach, and what still works. */
function browserText(host: Exclude<FigmaHost, "desktop">): string {
  const why =
    host === "safari"
      ? "Safari does not let Figma in the browser connect to ws://localhost (an https page may not reach a plain ws:// address)."
      : "Figma in the browser can't reach the companion on this computer: the browser's Local Network Access rules need a permission Figma does not give plugins.";
  return `${why} Style transfer needs the Figma desktop app for now; primitives keep working here, inside the plugin.`;
}

/** Where the companion's `auto` runs style transfer (its own rule), so the designer knows before pressing Stylize. */
export function styleDeviceText(devices: readonly DeviceInfo[]): string {
  const device = chooseDevice("auto", devices).device;
  if (device === "cpu") return "the CPU";
  const adapter = device === "webgpu" ? devices.find((d) => d.name === "webgpu")?.adapter : undefined;
  return `the GPU (${adapter ?? DEVICE_LABEL[device]})`;
}

export function connectionText(
  s: ConnectionState,
  hasToken = true,
  host: FigmaHost = "desktop",
): { tone: "ok" | "wait" | "bad"; text: string } {
  switch (s.state) {
    case "connected":
      return {
        tone: "ok",
        text: `Connected to companion ${s.hello.version} — style transfer runs on ${styleDeviceText(s.hello.devices)}`,
      };
    case "connecting":
      return { tone: "wait", text: "Connecting to the companion…" };
    case "reconnecting": {
      const secs = Math.max(1, Math.round(s.delayMs / 1000));
      if (s.everConnected) return { tone: "wait", text: `Companion disconnected — reconnecting in ${secs} s…` };
      return host !== "desktop" && LOOPBACK.test(s.url)
        ? { tone: "bad", text: browserText(host) }
        : {
            tone: "bad",
            // A refused socket looks the same whether nothing listens or Figma's policy blocked it
            // (when the browser doesn't report the block), so name both causes.
            text: `Can't reach the companion at ${s.url} — ${START_HINT}. If it is running, Figma's network policy may be blocking this address. Retrying in ${secs} s.`,
          };
    }
    case "blocked":
      return {
        tone: "bad",
        text:
          `Figma's network policy blocked ${s.url}: the plugin may only connect to ${DEFAULT_COMPANION_URL} (set in manifest.json). ` +
          (s.url === DEFAULT_COMPANION_URL
            ? "Re-import the plugin from its manifest.json (Plugins → Development) and run it again."
            : "Press “Use the default address” to switch back."),
      };
    case "outdated":
      return {
        tone: "bad",
        text:
          s.companion < PROTOCOL_VERSION
            ? `The companion is older than this plugin (protocol ${s.companion}, the plugin ${PROTOCOL_VERSION}): stop it, run \`npm install\` in the Stylize folder, \`npm start\` again, then press Retry now.`
            : `This plugin is older than the companion (protocol ${PROTOCOL_VERSION}, the companion ${s.companion}): run \`npm install\` in the Stylize folder, then close the plugin and run it again.`,
      };
    case "unauthorized":
      return hasToken
        ? {
            tone: "bad",
            text: "Pairing token not accepted — paste the token the companion printed (`npx stylize pair`).",
          }
        : { tone: "bad", text: "Paste the pairing token that `npm start` printed to connect." };
  }
}

/** Primitives with no companion run inside the plugin; style transfer cannot. */
export const STYLE_NEEDS_COMPANION = "Style transfer needs the companion — start it with `npm start`.";
/** Why style mode cannot run now: in a browser the companion is out of reach whatever the designer does. */
export const styleNeedsCompanionText = (host: FigmaHost) =>
  host === "desktop"
    ? STYLE_NEEDS_COMPANION
    : "Style transfer needs the Figma desktop app for now (with the companion running).";

/** Where a job ran: errors are worded for the companion, or for the engine inside the plugin. */
export type JobSite = "companion" | "plugin";

export function jobErrorText(code: ErrorCode | "disconnected", message: string, site: JobSite = "companion"): string {
  if (site === "plugin") return inPluginErrorText(code, message);
  switch (code) {
    case "weights-missing":
      return WEIGHTS_HINT;
    case "disconnected":
      return "Lost the connection to the companion. Your document was not changed — retry once it is back.";
    case "busy":
      // the companion says which: its queue is full, this window has too many jobs, or it is shutting down
      return message;
    case "too-large":
      return `The image is too large for the companion — choose a smaller size. (${message})`;
    case "bad-image":
      return `The companion could not read an image, so nothing was made. (${message})`;
    case "device-unavailable":
      return `That device is not available here — choose Auto or CPU in the advanced options. (${message})`;
    case "unauthorized":
      return "Pairing token not accepted — paste the token the companion printed.";
    case "internal":
      return `The companion hit an unexpected error: ${message}`;
    default:
      return message;
  }
}

/** The engine inside the plugin sends the companion's codes; only these two can happen there. */
function inPluginErrorText(code: ErrorCode | "disconnected", message: string): string {
  switch (code) {
    case "bad-image":
      return `Stylize could not read the layer Figma exported, so nothing was made. (${message})`;
    case "internal":
      return `Making primitives inside Figma stopped on an unexpected error: ${message}. Try again, or start the companion (\`npm start\`) to make them there.`;
    default:
      return message;
  }
}

/**
 * Why a companion address cannot be used, or null. Plain ws:// is for the companion on this
 * computer only; a studio's front door on another machine is reached with wss:// (TLS).
 */
export function addressProblem(address: string): string | null {
  const m = /^(wss?):\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?\/?$/.exec(address);
  if (!m) return `The address looks like ${DEFAULT_COMPANION_URL}, or wss://host:port for a studio's companion.`;
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(m[2]);
  if (m[1] === "ws" && !loopback)
    return "A companion on another computer needs wss:// (TLS): ws:// stays on this computer.";
  return null;
}

/** A request to the plugin (Figma's side) got no answer: say so, and that the designer can go on. */
export function pluginNoAnswerText(ms: number): string {
  return `Figma did not answer the plugin for ${Math.round(ms / 1000)} s. Check the document, then try again.`;
}

/** A usable address the manifest does not list: Figma will block it until a studio adds it there. */
export function addressNotAllowedText(address: string, allowed: string[]): string {
  return (
    `Figma lets the plugin connect only to the addresses in its manifest.json (now ${allowed.join(", ")}), so it will block ${address}. ` +
    "To use a studio's companion, add its address to networkAccess in manifest.json and re-import the plugin (README → Run it for a team)."
  );
}

export function formatEta(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "";
  const s = Math.round(ms / 1000);
  if (s < 60) return `about ${s} s left`;
  return `about ${Math.floor(s / 60)} min ${s % 60} s left`;
}

type Batch = {
  index: number;
  total: number;
  layer: string;
  done: number;
  failures: { layer: string; message: string }[];
};

/** Ended before the last layer (Cancel, or a failure every layer would hit): derived, not stored. */
export const batchStopped = (b: Batch) => b.done + b.failures.length < b.total;

/** The layer a batch is on: "3 of 8 · Avatar 3". */
export const batchProgressText = (b: Batch) => `${b.index} of ${b.total} · ${b.layer}`;

/** The most failures named one by one in a batch's summary; the rest are counted. */
const NAMED_FAILURES = 3;

/**
 * How a batch ended: "7 of 8 done; Avatar 3: <reason>", "Cancelled — 3 of 8 done; the rest were
 * not started." Finished results stay in the document either way.
 */
export function batchSummaryText(b: Batch, cancelled: boolean): string {
  const stopped = batchStopped(b);
  const head = `${cancelled ? "Cancelled — " : ""}${b.done} of ${b.total} done`;
  const named = b.failures.slice(0, NAMED_FAILURES).map((f) => `${f.layer}: ${f.message.replace(/\.$/, "")}`);
  const more = b.failures.length - named.length;
  if (more > 0) named.push(`${more} more failed`);
  const failures = named.length ? `; ${named.join("; ")}` : "";
  const rest = stopped ? " The rest were not started." : "";
  if (!failures && !stopped && b.done === b.total) return `Done: ${b.total} results, each beside its layer.`;
  return `${head}${failures}.${rest}`;
}
