// Primitives' two extra controls: a focus layer (more, smaller shapes where detail matters) and a
// palette (shape colours only from a list).
import type { LayerInfo, Settings } from "../../shared/plugin-messages";

type Props = {
  settings: Settings;
  focus: LayerInfo | null;
  onPickFocus(): void;
  onClearFocus(): void;
  onChange(s: Settings): void;
};

const HEX = /^#?[0-9a-fA-F]{6}$/;

/** "#hex, #hex …" as typed → the valid colours, "#"-prefixed. */
export function parsePaletteText(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .filter((c) => HEX.test(c))
    .map((c) => (c.startsWith("#") ? c : `#${c}`).toLowerCase());
}

export function PrimitivesControls({ settings, focus, onPickFocus, onClearFocus, onChange }: Props) {
  const p = settings.primitives;
  const setPrimitives = (o: Partial<Settings["primitives"]>) =>
    onChange({ ...settings, primitives: { ...p, ...o } });
  return (
    <section class="sources" aria-label="Focus and palette">
      <div class="row mask">
        {focus ? (
          <>
            <span class="hint" data-testid="focus-layer">
              Focus: more detail inside <strong>{focus.name}</strong>
            </span>
            <label class="inline">
              ×
              <input
                type="number"
                aria-label="Focus weight"
                min={1}
                max={100}
                step={1}
                value={p.focusWeight}
                onChange={(e) =>
                  setPrimitives({ focusWeight: Math.min(100, Math.max(1, Number(e.currentTarget.value) || 4)) })
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
      <label class="row">
        Palette
        <input
          type="text"
          aria-label="Palette"
          placeholder="any colour — or #hex, #hex, …"
          spellcheck={false}
          value={(p.palette ?? []).join(", ")}
          onChange={(e) => {
            const palette = parsePaletteText(e.currentTarget.value);
            setPrimitives({ palette: palette.length ? palette : undefined });
          }}
        />
      </label>
    </section>
  );
}
