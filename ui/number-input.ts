// What the number inputs accept (pure, so tests can run it without a DOM).

/** The shape count's range (the protocol's). */
export const COUNT_RANGE = { min: 1, max: 5000 };

/**
 * A number input's text clamped to [min, max], rounded if `whole` (counts, sizes: the protocol
 * refuses 2.5 shapes); undefined when it is not a number.
 */
export function clampInput(text: string, min: number, max: number, whole = false): number | undefined {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n)) return undefined; // Number("") is 0
  return Math.min(max, Math.max(min, whole ? Math.round(n) : n));
}
