// Connection status (live region), pairing-token and address fields, "Retry now" and "Use the
// default address".
import { useEffect, useState } from "preact/hooks";
import { DEFAULT_COMPANION_URL } from "../../shared/protocol";
import type { ConnectionState } from "../companion";
import type { FigmaHost } from "../host";
import { addressNotAllowedText, addressProblem, connectionText, WEIGHTS_HINT } from "../messages";
import { MANIFEST_ADDRESSES, manifestAllows } from "../network-access";
import { Text } from "./text";

type Props = {
  state: ConnectionState;
  token: string;
  /** ws://localhost:47615 for the companion on this computer, wss://host:port for a studio's. */
  address: string;
  onPair(token: string, address: string): void;
  onRetry(): void;
  /** Point the plugin back at the one address its manifest allows. */
  onResetAddress(): void;
  needsWeights: boolean;
  host: FigmaHost;
};

export function ConnectionBar({ state, token, address, onPair, onRetry, onResetAddress, needsWeights, host }: Props) {
  const [draft, setDraft] = useState(token);
  const [addressDraft, setAddressDraft] = useState(address);
  useEffect(() => setAddressDraft(address), [address]); // e.g. after "Use the default address"
  const problem = addressProblem(addressDraft.trim());
  const notAllowed =
    !problem && !manifestAllows(addressDraft) ? addressNotAllowedText(addressDraft.trim(), MANIFEST_ADDRESSES) : null;
  const [editing, setEditing] = useState(state.state === "unauthorized" || token === "");
  const { tone, text } = connectionText(state, token !== "", host);
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
        {/* outdated: after updating and restarting the companion, try again without reopening the plugin */}
        {(state.state === "reconnecting" || state.state === "outdated") && (
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
            if (problem) return;
            onPair(draft.trim(), addressDraft.trim());
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
          <label for="address">Companion address</label>
          <input
            id="address"
            type="text"
            autoComplete="off"
            spellcheck={false}
            value={addressDraft}
            aria-invalid={problem !== null}
            onInput={(e) => setAddressDraft(e.currentTarget.value)}
          />
          {problem && (
            <p class="hint warn" data-testid="address-problem">
              <Text>{problem}</Text>
            </p>
          )}
          {notAllowed && (
            <p class="hint warn" data-testid="address-not-allowed">
              <Text>{notAllowed}</Text>
            </p>
          )}
          <button type="submit" class="secondary small" disabled={problem !== null}>
            Pair
          </button>
        </form>
      )}
    </section>
  );
}
