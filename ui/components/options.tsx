// Mode tabs, presets and the folded-away advanced options.
import type { Mode, Preset, Settings } from "../../shared/plugin-messages";
import type { PrimitivesOptions, StyleOptions } from "../../shared/protocol";
import { PRESET_LABELS } from "../presets";
import { clampInput, COUNT_RANGE } from "../number-input";
import { CommitInput, ShapeSelect } from "./fields";

export function ModeTabs({ mode, onMode }: { mode: Mode; onMode(m: Mode): void }) {
  const tabs: [Mode, string][] = [
    ["style", "Style transfer"],
    ["primitives", "Primitives"],
  ];
  return (
    <div class="tabs" role="tablist" aria-label="Mode">
      {tabs.map(([m, label]) => (
        <button
          key={m}
          type="button"
          role="tab"
          aria-selected={mode === m}
          tabIndex={mode === m ? 0 : -1}
          class={mode === m ? "tab active" : "tab"}
          onClick={() => onMode(m)}
          onKeyDown={(e) => {
            // WAI-ARIA tabs: arrow keys move between tabs, Tab moves on to the panel
            if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
            const next = tabs[(tabs.findIndex(([t]) => t === m) + 1) % tabs.length][0];
            onMode(next);
            const sibling = (e.currentTarget.nextElementSibling ??
              e.currentTarget.previousElementSibling) as HTMLElement | null;
            sibling?.focus();
          }}
        >
          {label}
        </button>
      ))}
    </div>
  );
}

export function PresetPicker({ preset, onPreset }: { preset: Preset; onPreset(p: Preset): void }) {
  return (
    <fieldset class="presets">
      <legend>Quality</legend>
      {(["draft", "standard", "high", "custom"] as const).map((p) => (
        <label key={p} class={preset === p ? "chip active" : "chip"}>
          <input type="radio" name="preset" value={p} checked={preset === p} onChange={() => onPreset(p)} />
          {PRESET_LABELS[p]}
        </label>
      ))}
    </fieldset>
  );
}

type NumProps = {
  id: string;
  label: string;
  value: number;
  min: number;
  max: number;
  step?: number;
  /** Takes fractions (the loss weights); otherwise a whole number, as the protocol wants. */
  fractions?: boolean;
  onValue(n: number): void;
};

function NumberField({ id, label, value, min, max, step = 1, fractions = false, onValue }: NumProps) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <CommitInput
        id={id}
        type="number"
        min={min}
        max={max}
        step={step}
        value={value}
        onCommit={(text) => {
          const n = clampInput(text, min, max, !fractions);
          if (n !== undefined) onValue(n);
        }}
      />
    </div>
  );
}

/** The keys of T whose values are numbers. */
type NumberKey<T> = { [K in keyof T]-?: T[K] extends number ? K : never }[keyof T];
/** A number field of the advanced options: the option key doubles as the input's id. */
type NumberSpec<T> = Omit<NumProps, "id" | "value" | "onValue"> & { id: NumberKey<T> };

const STYLE_NUMBERS: NumberSpec<StyleOptions>[] = [
  { id: "iters", label: "Iterations", min: 1, max: 5000 },
  { id: "size", label: "Size (px)", min: 16, max: 2048 },
  { id: "styleWeight", label: "Style weight", min: 0, max: 1e12, step: 5, fractions: true },
  { id: "contentWeight", label: "Content weight", min: 0, max: 1e12, step: 0.1, fractions: true },
];

const PRIMITIVES_NUMBERS: NumberSpec<PrimitivesOptions>[] = [
  { id: "count", label: "Shapes", ...COUNT_RANGE },
  { id: "alpha", label: "Alpha (0 = auto)", min: 0, max: 255 },
  { id: "workSize", label: "Size (px)", min: 16, max: 1024 },
];

type AdvancedProps = { settings: Settings; styleCount: number; onChange(s: Settings): void };

export function Advanced({ settings, styleCount, onChange }: AdvancedProps) {
  const style = (patch: Partial<StyleOptions>) =>
    onChange({ ...settings, preset: "custom", style: { ...settings.style, ...patch } });
  const prim = (patch: Partial<PrimitivesOptions>) =>
    onChange({ ...settings, preset: "custom", primitives: { ...settings.primitives, ...patch } });
  const s = settings.style;
  const p = settings.primitives;
  return (
    <details class="advanced">
      <summary>Advanced options</summary>
      {settings.mode === "style" ? (
        <div class="grid">
          {STYLE_NUMBERS.map((f) => (
            <NumberField key={f.id} {...f} value={s[f.id]} onValue={(n) => style({ [f.id]: n })} />
          ))}
          <label class="check">
            <input
              type="checkbox"
              checked={s.preserveColors}
              onChange={(e) => style({ preserveColors: e.currentTarget.checked })}
            />
            Preserve original colours
          </label>
          {styleCount === 2 && (
            <div class="field wide">
              <label for="blend">Style blend (first ↔ second)</label>
              <input
                id="blend"
                type="range"
                min={0}
                max={100}
                value={Math.round(
                  100 * ((s.styleBlend?.[1] ?? 1) / ((s.styleBlend?.[0] ?? 1) + (s.styleBlend?.[1] ?? 1))),
                )}
                onInput={(e) => {
                  const t = Number(e.currentTarget.value) / 100;
                  style({ styleBlend: [1 - t, t] });
                }}
              />
            </div>
          )}
        </div>
      ) : (
        <div class="grid">
          <div class="field">
            <label for="shape">Shape</label>
            <ShapeSelect id="shape" value={p.shape} onShape={(shape) => prim({ shape })} />
          </div>
          {PRIMITIVES_NUMBERS.map((f) => (
            <NumberField key={f.id} {...f} value={p[f.id]} onValue={(n) => prim({ [f.id]: n })} />
          ))}
          <label
            class="check"
            title="Each shape gets an editable two-stop gradient, sharp where it crosses an edge: less error, about 1.5–2× the time"
          >
            <input
              type="checkbox"
              checked={p.fill === "gradient"}
              // A look, not a quality level: the preset stays as it is.
              onChange={(e) =>
                onChange({ ...settings, primitives: { ...p, fill: e.currentTarget.checked ? "gradient" : "flat" } })
              }
            />
            Gradient fills
          </label>
        </div>
      )}
    </details>
  );
}
