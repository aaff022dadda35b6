// Form pieces both the Advanced options and "Stylize as shapes" use, so the two stay alike.
import type { ShapeMode } from "../../shared/shapes";
import { SHAPE_MODES } from "../../shared/shapes";

/** The shape count's range (the protocol's). */
export const COUNT_RANGE = { min: 1, max: 5000 };

/** A number input's text clamped to [min, max]; undefined when it is not a number. */
export function clampInput(text: string, min: number, max: number): number | undefined {
  const n = Number(text);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : undefined;
}

type ShapeSelectProps = {
  id?: string;
  /** Its accessible name when no <label for> names it. */
  label?: string;
  /** "triangles", for where the dropdown reads as part of a sentence. */
  plural?: boolean;
  value: ShapeMode;
  onShape(shape: ShapeMode): void;
};

export function ShapeSelect({ id, label, plural, value, onShape }: ShapeSelectProps) {
  return (
    <select id={id} aria-label={label} value={value} onChange={(e) => onShape(e.currentTarget.value as ShapeMode)}>
      {SHAPE_MODES.map((m) => (
        <option key={m} value={m}>
          {plural ? `${m}s` : m}
        </option>
      ))}
    </select>
  );
}
