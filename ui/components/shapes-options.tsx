// "Stylize as shapes" in the style tab: the second action and the two primitives settings it
// needs at hand (shape and count; the rest is the Primitives tab's).
import type { Settings } from "../../shared/plugin-messages";
import type { PrimitivesOptions } from "../../shared/protocol";
import { SHAPE_MODES } from "../../shared/shapes";

type Props = { settings: Settings; disabled: boolean; layers: number; onChange(s: Settings): void; onRun(): void };

export function ShapesAction({ settings, disabled, layers, onChange, onRun }: Props) {
  const p = settings.primitives;
  const prim = (patch: Partial<PrimitivesOptions>) => onChange({ ...settings, primitives: { ...p, ...patch } });
  return (
    <div class="row shapes-action">
      <button type="button" class="secondary" data-testid="stylize-shapes" disabled={disabled} onClick={onRun}>
        Stylize as shapes{layers > 1 ? ` (${layers} layers)` : ""}
      </button>
      <input
        type="number"
        aria-label="Number of shapes"
        min={1}
        max={5000}
        value={p.count}
        onChange={(e) => {
          const n = Math.round(Number(e.currentTarget.value));
          if (Number.isFinite(n)) prim({ count: Math.min(5000, Math.max(1, n)) });
        }}
      />
      <select
        aria-label="Shape"
        value={p.shape}
        onChange={(e) => prim({ shape: e.currentTarget.value as PrimitivesOptions["shape"] })}
      >
        {SHAPE_MODES.map((m) => (
          <option key={m} value={m}>
            {m}s
          </option>
        ))}
      </select>
    </div>
  );
}
