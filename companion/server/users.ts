// Per-user tokens for a front door reachable on the LAN (`serve --public`). Only a SHA-256 of
// each token is kept: tokens are 192 random bits, so a fast hash is as safe as a slow one, and a
// stolen users.json lets nobody in. The file is read at each hello, so a revoke applies at once.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { configDir } from "./token";

export interface User {
  name: string;
  /** SHA-256 of the token, hex. */
  hash: string;
  created: string;
}

const NAME_RE = /^[A-Za-z0-9._@-]{1,64}$/;

export function defaultUsersPath(): string {
  return join(configDir(), "users.json");
}

const hashOf = (token: string) => createHash("sha256").update(token).digest("hex");

export function listUsers(path = defaultUsersPath()): User[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const users = JSON.parse(text) as unknown;
  if (!Array.isArray(users)) throw new Error(`${path} is not a list of users; fix or delete it`);
  return users as User[];
}

function save(path: string, users: User[]): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(users, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** Adds a user and returns their token: shown once, never stored. */
export function addUser(name: string, path = defaultUsersPath()): string {
  if (!NAME_RE.test(name)) throw new Error(`a user name is 1–64 letters, digits or . _ @ - (got "${name}")`);
  const users = listUsers(path);
  if (users.some((u) => u.name === name)) throw new Error(`there is already a user "${name}"; revoke it first`);
  const token = randomBytes(24).toString("base64url");
  save(path, [...users, { name, hash: hashOf(token), created: new Date().toISOString() }]);
  return token;
}

export function revokeUser(name: string, path = defaultUsersPath()): boolean {
  const users = listUsers(path);
  const rest = users.filter((u) => u.name !== name);
  if (rest.length === users.length) return false;
  save(path, rest);
  return true;
}

/** The user a token belongs to, compared in constant time against every stored hash. */
export function userOfToken(token: string, path = defaultUsersPath()): string | undefined {
  const given = Buffer.from(hashOf(token), "hex");
  let found: string | undefined;
  for (const u of listUsers(path)) {
    const stored = Buffer.from(u.hash, "hex");
    if (stored.length === 32 && timingSafeEqual(given, stored)) found ??= u.name;
  }
  return found;
}
