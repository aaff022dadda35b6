// playwright-core has no web-first assertions (those live in @playwright/test): small polling
// helpers that fail with what they last saw.
import type { Locator } from "playwright-core";

export async function eventually<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last saw: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const textOf = (loc: Locator) =>
  loc.textContent({ timeout: 500 }).then(
    (t) => t ?? "",
    () => "",
  );

export function waitText(loc: Locator, pattern: string | RegExp, timeout?: number): Promise<string> {
  const match = (t: string) => (typeof pattern === "string" ? t.includes(pattern) : pattern.test(t));
  return eventually(`text ${pattern}`, () => textOf(loc), match, timeout);
}

export function waitAttr(loc: Locator, name: string, value: string, timeout?: number): Promise<string | null> {
  return eventually(
    `${name}="${value}"`,
    () => loc.getAttribute(name, { timeout: 500 }).catch(() => null),
    (v) => v === value,
    timeout,
  );
}

export const waitVisible = (loc: Locator, timeout = 15_000) => loc.waitFor({ state: "visible", timeout });
