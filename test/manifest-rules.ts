// manifest.json checked the way Figma's manifest validator does, so a manifest Figma would refuse
// ("must be a valid URL", "Manifest issue") fails here first. Keys and fields from
// https://developers.figma.com/docs/plugins/manifest and .../making-network-requests.
import { existsSync } from "node:fs";
import { isIP } from "node:net";

const TOP_LEVEL_KEYS = new Set([
  "name",
  "id",
  "api",
  "main",
  "ui",
  "editorType",
  "documentAccess",
  "networkAccess",
  "parameters",
  "parameterOnly",
  "menu",
  "relaunchButtons",
  "enableProposedApi",
  "enablePrivatePluginApi",
  "build",
  "permissions",
  "capabilities",
  "codegenLanguages",
  "codegenPreferences",
]);
const NETWORK_KEYS = new Set(["allowedDomains", "devAllowedDomains", "reasoning"]);
const LOCAL_HOSTS = new Set(["localhost"]);

/** The host of an allowed-domain entry ("ws://localhost:1", "*.example.com", "example.com/api/"). */
function entryHost(entry: string): string | null {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) ? entry : `https://${entry.replace(/^\*\./, "")}`;
  try {
    return new URL(withScheme).hostname;
  } catch {
    return null;
  }
}

/** Problems with one `allowedDomains` / `devAllowedDomains` entry, in Figma's terms. */
function entryProblems(field: string, entry: unknown): string[] {
  if (typeof entry !== "string" || entry === "") return [`${field}: every entry must be a non-empty string`];
  if (entry === "none" || entry === "*") return [];
  const host = entryHost(entry);
  if (host === null || host === "") return [`${field}: "${entry}" must be a valid URL`];
  // URL keeps IPv6 hosts bracketed ("[::1]").
  if (isIP(host.replace(/^\[|\]$/g, "")) !== 0) {
    return [`${field}: "${entry}" uses an IP address; Figma only accepts host names (use localhost)`];
  }
  return [];
}

const allowsLocal = (entries: unknown): boolean =>
  Array.isArray(entries) && entries.some((e) => typeof e === "string" && LOCAL_HOSTS.has(entryHost(e) ?? ""));

/** Everything wrong with a parsed manifest.json (empty when Figma would accept it). */
export function manifestProblems(manifest: unknown, fileExists: (path: string) => boolean = existsSync): string[] {
  if (typeof manifest !== "object" || manifest === null) return ["the manifest must be a JSON object"];
  const m = manifest as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(m)) if (!TOP_LEVEL_KEYS.has(key)) problems.push(`unknown key "${key}"`);
  for (const key of ["name", "api", "main"]) {
    if (typeof m[key] !== "string" || m[key] === "") problems.push(`"${key}" is required`);
  }
  for (const key of ["main", "ui"]) {
    const file = m[key];
    if (typeof file === "string" && !fileExists(file)) problems.push(`"${key}" names ${file}, which does not exist`);
  }
  const net = m.networkAccess;
  if (net === undefined) return problems;
  if (typeof net !== "object" || net === null) return [...problems, "networkAccess must be an object"];
  const n = net as Record<string, unknown>;
  for (const key of Object.keys(n)) if (!NETWORK_KEYS.has(key)) problems.push(`unknown key "networkAccess.${key}"`);
  if (!Array.isArray(n.allowedDomains)) problems.push("networkAccess.allowedDomains is required (a list)");
  for (const field of ["allowedDomains", "devAllowedDomains"]) {
    const entries = n[field];
    if (entries === undefined) continue;
    if (!Array.isArray(entries)) problems.push(`networkAccess.${field} must be a list`);
    else for (const e of entries) problems.push(...entryProblems(`networkAccess.${field}`, e));
  }
  const local = allowsLocal(n.allowedDomains) || allowsLocal(n.devAllowedDomains);
  if (local && (typeof n.reasoning !== "string" || n.reasoning.trim() === "")) {
    problems.push("networkAccess.reasoning is required when local addresses are allowed");
  }
  return problems;
}
