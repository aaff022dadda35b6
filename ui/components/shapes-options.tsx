// "Stylize as shapes" in the style tab: the second action and the two primitives settings it
// needs at hand (shape and count; the rest is the Primitives tab's).
import type { Settings } from "../../shared/plugin-messages";
import type { PrimitivesOptions } from "../../shared/protocol";
import { clampInput, COUNT_RANGE } from "../number-input";
import { CommitInput, ShapeSelect } from "./fields";

type Props = { settings: Settings; disabled: boolean; layers: number; onChange(s: Settings): void; onRun(): void };

export function ShapesAction({ settings, disabled, layers, onChange, onRun }: Props) {
  const p = settings.primitives;
  const prim = (patch: Partial<PrimitivesOptions>) => onChange({ ...settings, primitives: { ...p, ...patch } });
  return (
    <div class="row shapes-action">
      <button type="button" class="secondary" data-testid="stylize-shapes" disabled={disabled} onClick={onRun}>
        Stylize as shapes{layers > 1 ? ` (${layers} layers)` : ""}
      </button>
      <CommitInput
        type="number"
        aria-label="Number of shapes"
        {...COUNT_RANGE}
        value={p.count}
        onCommit={(text) => {
          const n = clampInput(text, COUNT_RANGE.min, COUNT_RANGE.max, true);
          if (n !== undefined) prim({ count: n });
        }}
      />
      <ShapeSelect label="Shape" plural value={p.shape} onShape={(shape) => prim({ shape })} />
    </div>
  );
}
