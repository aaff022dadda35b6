// The pairing token: a random secret on disk, readable only by this user, that the plugin UI
// must present in its `hello`. A web page in the same browser cannot read it, so it cannot drive us.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { UserError } from "../errors";

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
 * Refuses to replace a file that holds anything but a token or nothing at all (a --token-file
 * pointed at someone's notes, or a `.nvmrc` holding "20", must not be overwritten).
 */
function checkReplaceable(path: string, text: string | undefined): void {
  if (text === undefined || text === "" || TOKEN_RE.test(text)) return;
  throw new UserError(
    "bad-message",
    `${path} holds something other than a pairing token; it was left alone. Point --token-file at a new file, or delete that one.`,
  );
}

/**
 * Read the token, creating it on first run (or in an empty file; a file with anything else in it
 * is refused: checkReplaceable); one that other users could read is tightened to 0600 (a warning
 * is returned for the log).
 */
export function loadOrCreateToken(path = defaultTokenPath()): { token: string; created: boolean; warning?: string } {
  const text = readToken(path);
  if (text === undefined || !TOKEN_RE.test(text)) {
    checkReplaceable(path, text);
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

function readToken(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "EISDIR") throw new UserError("bad-message", `${path} is a folder, not a pairing token file`);
    throw err;
  }
}

/** Replace the token (old pairings stop working). */
export function resetToken(path = defaultTokenPath()): string {
  checkReplaceable(path, readToken(path));
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
