// The shape dropdown both the Advanced options and "Stylize as shapes" use, so the two stay alike.
import type { ShapeMode } from "../../shared/shapes";
import { SHAPE_MODES } from "../../shared/shapes";

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
