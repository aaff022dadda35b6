// The pairing token: a random secret on disk, readable only by this user, that the plugin UI
// must present in its `hello`. A web page in the same browser cannot read it, so it cannot drive us.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** Where the token lives: STYLIZE_CONFIG_DIR, else the platform's per-user config folder. */
export function configDir(): string {
  const env = process.env.STYLIZE_CONFIG_DIR;
  if (env) return env;
  if (process.platform === "win32")
    return join(process.env.APPDATA ?? join(homedir(), "AppData", "Roaming"), "stylize");
  if (process.platform === "darwin") return join(homedir(), "Library", "Application Support", "stylize");
  return join(process.env.XDG_CONFIG_HOME ?? join(homedir(), ".config"), "stylize");
}

export function defaultTokenPath(): string {
  return join(configDir(), "token");
}

const TOKEN_RE = /^[A-Za-z0-9_-]{16,256}$/;

function newToken(): string {
  return randomBytes(24).toString("base64url"); // 32 characters, 192 bits
}

function write(path: string, token: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, token + "\n", { mode: 0o600 });
  chmodSync(path, 0o600); // mode above only applies when the file is created
}

/**
 * Read the token, creating it on first run. A file that is unreadable as a token is replaced;
 * one that other users could read is tightened to 0600 (a warning is returned for the log).
 */
export function loadOrCreateToken(path = defaultTokenPath()): { token: string; created: boolean; warning?: string } {
  let text: string | undefined;
  try {
    text = readFileSync(path, "utf8").trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  if (text === undefined || !TOKEN_RE.test(text)) {
    const token = newToken();
    write(path, token);
    return { token, created: true };
  }
  let warning: string | undefined;
  if (process.platform !== "win32" && (statSync(path).mode & 0o077) !== 0) {
    chmodSync(path, 0o600);
    warning = `the pairing token file ${path} was readable by other users; it is now 0600`;
  }
  return { token: text, created: false, warning };
}

/** Replace the token (old pairings stop working). */
export function resetToken(path = defaultTokenPath()): string {
  const token = newToken();
  write(path, token);
  return token;
}

/** Constant-time comparison: hash both sides so lengths are equal and nothing leaks through timing. */
export function tokenMatches(expected: string, given: string): boolean {
  const a = createHash("sha256").update(expected).digest();
  const b = createHash("sha256").update(given).digest();
  return timingSafeEqual(a, b);
}
