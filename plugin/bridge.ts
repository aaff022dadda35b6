// The plugin's end of the postMessage channel: typed sends, schema-checked receives.
import { type PluginMessage, parseUiMessage, requestIdOf, type UiMessage } from "../shared/plugin-messages";

export function post(msg: PluginMessage): void {
  figma.ui.postMessage(msg);
}

/** Route every UI message through the shared schema; malformed ones are reported, not acted on. */
export function onUiMessage(handler: (msg: UiMessage) => Promise<void> | void): void {
  figma.ui.onmessage = (data: unknown) => {
    const parsed = parseUiMessage(data);
    if (!parsed.ok) {
      // answered with its request id, so the UI's request ends instead of waiting
      const message = `Internal error: the plugin got a malformed message (${parsed.error}).`;
      post({ type: "plugin-error", requestId: requestIdOf(data), message });
      return;
    }
    Promise.resolve()
      .then(() => handler(parsed.value))
      .catch((err: unknown) => {
        const requestId = "requestId" in parsed.value ? parsed.value.requestId : undefined;
        post({ type: "plugin-error", requestId, message: errorMessage(err) });
      });
  };
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
