// The UI's end of the plugin postMessage channel: typed sends, schema-checked receives, and
// request/reply pairing by requestId.
import {
  type PluginMessage,
  type PluginMessageOf,
  parsePluginMessage,
  type UiMessage,
} from "../shared/plugin-messages";
import { pluginNoAnswerText } from "./messages";

export function postToPlugin(msg: UiMessage): void {
  parent.postMessage({ pluginMessage: msg }, "*");
}

type Listener = (msg: PluginMessage) => void;
const listeners = new Set<Listener>();

export function onPluginMessage(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

window.addEventListener("message", (ev: MessageEvent) => {
  const data = (ev.data as { pluginMessage?: unknown } | null)?.pluginMessage;
  if (data === undefined) return;
  const parsed = parsePluginMessage(data);
  if (!parsed.ok) {
    console.warn(`Stylize UI ignored a malformed plugin message: ${parsed.error}`);
    return;
  }
  for (const fn of listeners) fn(parsed.value);
});

/** How long a request may go without any message about it from the plugin before it fails. */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * Send a request and wait for the plugin's reply of type `reply` (or its plugin-error) with the same
 * id. Every request ends: with no word about it (a reply, an error or progress) for `timeoutMs`, it
 * fails with a plain message, so no run can wait forever.
 */
export function requestPlugin<T extends PluginMessage["type"]>(
  msg: UiMessage & { requestId: string },
  reply: T,
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<PluginMessageOf<T>> {
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout>;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        off();
        reject(new Error(pluginNoAnswerText(timeoutMs)));
      }, timeoutMs);
    };
    const off = onPluginMessage((m) => {
      if (!("requestId" in m) || m.requestId !== msg.requestId) return;
      if (m.type === reply) {
        off();
        clearTimeout(timer);
        resolve(m as PluginMessageOf<T>);
      } else if (m.type === "plugin-error") {
        off();
        clearTimeout(timer);
        reject(new Error(m.message));
      } else arm(); // progress: still working
    });
    arm();
    postToPlugin(msg);
  });
}
