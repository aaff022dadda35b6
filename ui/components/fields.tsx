// Fields more than one panel uses: the shape dropdown (Advanced options and "Stylize as shapes"
// stay alike) and an input that keeps what is typed until it is committed.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
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

type CommitInputProps = Omit<JSX.InputHTMLAttributes<HTMLInputElement>, "value" | "onInput" | "onChange"> & {
  value: string | number;
  /** The text as typed, when the field commits it (blur, Enter). */
  onCommit(text: string): void;
};

/**
 * An input that commits on change (blur, Enter) and keeps what is typed until then: a plain
 * controlled input would be reset to the committed value by any re-render mid-typing (progress,
 * the companion reconnecting), and the designer's number lost.
 */
export function CommitInput({ value, onCommit, ...rest }: CommitInputProps) {
  const [draft, setDraft] = useState<string | null>(null);
  return (
    <input
      {...rest}
      value={draft ?? value}
      onInput={(e) => setDraft(e.currentTarget.value)}
      onChange={(e) => {
        setDraft(null);
        onCommit(e.currentTarget.value);
      }}
    />
  );
}
