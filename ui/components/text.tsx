// Messages mark commands with backticks (`npm start`); show those as code.
export function Text({ children }: { children: string }) {
  const parts = children.split("`");
  // odd-indexed parts were inside backticks (an unpaired one just stays text)
  return <>{parts.map((p, i) => (i % 2 === 1 && i < parts.length - 1 ? <code key={i}>{p}</code> : p))}</>;
}
