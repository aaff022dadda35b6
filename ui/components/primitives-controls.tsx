// Primitives' two extra controls: a focus layer (more, smaller shapes where detail matters) and a
// palette (shape colours only from a list).
import { useState } from "preact/hooks";
import type { LayerInfo, Settings } from "../../shared/plugin-messages";
import { PrimitivesOptionsSchema } from "../../shared/protocol";
import { requestPlugin } from "../bridge";
import { newJobId } from "../job";
import { paletteFromEntries, parsePaletteText } from "../palette";
import { CommitInput } from "./fields";

/** The engine's default weight, for an emptied field. */
const FOCUS_WEIGHT = PrimitivesOptionsSchema.entries.focusWeight.default;

type Props = {
  settings: Settings;
  focus: LayerInfo | null;
  onPickFocus(): void;
  onClearFocus(): void;
  /** A function gets the settings as they are then (an answer that comes later must not undo edits made meanwhile). */
  onChange(s: Settings | ((now: Settings) => Settings)): void;
};

export function PrimitivesControls({ settings, focus, onPickFocus, onClearFocus, onChange }: Props) {
  const p = settings.primitives;
  const [stylesNote, setStylesNote] = useState<string | null>(null);
  const setPrimitives = (o: Partial<Settings["primitives"]>) => onChange({ ...settings, primitives: { ...p, ...o } });
  const useColourStyles = async () => {
    const reply = await requestPlugin({ type: "get-colour-styles", requestId: newJobId() }, "colour-styles").catch(
      (err: Error) => err,
    );
    if (reply instanceof Error) {
      setStylesNote(reply.message);
      return;
    }
    const { palette, note } = paletteFromEntries(reply.styles);
    if (palette.length) onChange((now) => ({ ...now, primitives: { ...now.primitives, palette } }));
    setStylesNote(note);
  };
  return (
    <section class="sources" aria-label="Focus and palette">
      <div class="row mask">
        {focus ? (
          <>
            <span class="hint" data-testid="focus-layer">
              Focus: more detail inside <strong>{focus.name}</strong>
            </span>
            <label class="inline" for="focus-weight">
              ×
              <CommitInput
                id="focus-weight"
                type="number"
                aria-label="Focus weight"
                min={1}
                max={100}
                step={1}
                value={p.focusWeight}
                onCommit={(text) =>
                  setPrimitives({ focusWeight: Math.min(100, Math.max(1, Number(text) || FOCUS_WEIGHT)) })
                }
              />
            </label>
            <button type="button" class="link small" onClick={onClearFocus}>
              Clear
            </button>
          </>
        ) : (
          <button type="button" class="link small" onClick={onPickFocus}>
            Focus on a region (use selected layer)
          </button>
        )}
      </div>
      <label class="row" for="palette">
        Palette
        <CommitInput
          id="palette"
          type="text"
          aria-label="Palette"
          placeholder="any colour — or #hex, #hex, …"
          spellcheck={false}
          value={(p.palette ?? []).join(", ")}
          onCommit={(text) => {
            const { palette, note } = parsePaletteText(text);
            setPrimitives({ palette: palette.length ? palette : undefined });
            setStylesNote(note);
          }}
        />
      </label>
      <div class="row">
        <button type="button" class="link small" onClick={() => void useColourStyles()}>
          Use this file's colour styles and variables
        </button>
        {stylesNote && (
          <span class="hint" data-testid="palette-note">
            {stylesNote}
          </span>
        )}
      </div>
    </section>
  );
}
