// Connection status (live region), pairing-token field, "Retry now" and "Use the default address".
import { useState } from "preact/hooks";
import { DEFAULT_COMPANION_URL } from "../../shared/protocol";
import type { ConnectionState } from "../companion";
import { connectionText, WEIGHTS_HINT } from "../messages";
import { Text } from "./text";

type Props = {
  state: ConnectionState;
  token: string;
  onToken(token: string): void;
  onRetry(): void;
  /** Point the plugin back at the one address its manifest allows. */
  onResetAddress(): void;
  needsWeights: boolean;
};

export function ConnectionBar({ state, token, onToken, onRetry, onResetAddress, needsWeights }: Props) {
  const [draft, setDraft] = useState(token);
  const [editing, setEditing] = useState(state.state === "unauthorized" || token === "");
  const { tone, text } = connectionText(state, token !== "");
  const showToken = editing || state.state === "unauthorized";
  return (
    <section class="connection" aria-label="Companion connection">
      <p class={`status status-${tone}`} role="status" aria-live="polite" data-testid="connection-status">
        <span class="dot" aria-hidden="true" />
        <span>
          <Text>{text}</Text>
        </span>
      </p>
      {needsWeights && state.state === "connected" && !state.hello.weights.installed && (
        <p class="hint warn" data-testid="weights-missing">
          <Text>{WEIGHTS_HINT}</Text>
        </p>
      )}
      <div class="row">
        {state.state === "reconnecting" && (
          <button type="button" class="secondary small" onClick={onRetry}>
            Retry now
          </button>
        )}
        {state.state === "blocked" && state.url !== DEFAULT_COMPANION_URL && (
          <button type="button" class="secondary small" onClick={onResetAddress}>
            Use the default address
          </button>
        )}
        {!showToken && (
          <button type="button" class="link small" onClick={() => setEditing(true)}>
            Change pairing token
          </button>
        )}
      </div>
      {showToken && (
        <form
          class="row token"
          onSubmit={(e) => {
            e.preventDefault();
            onToken(draft.trim());
            setEditing(false);
          }}
        >
          <label for="token">Pairing token</label>
          <input
            id="token"
            type="password"
            autoComplete="off"
            spellcheck={false}
            placeholder="Printed by the companion"
            value={draft}
            onInput={(e) => setDraft(e.currentTarget.value)}
          />
          <button type="submit" class="secondary small">
            Pair
          </button>
        </form>
      )}
    </section>
  );
}
