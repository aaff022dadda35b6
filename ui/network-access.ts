// The addresses Figma lets the plugin connect to: manifest.json's networkAccess, bundled at build
// time (rebuild after editing the manifest). Figma blocks every other address with its CSP.
import manifest from "../manifest.json";

const access = manifest.networkAccess as { allowedDomains?: string[]; devAllowedDomains?: string[] };
/** What the manifest allows, for development imports and published builds alike. */
export const MANIFEST_ADDRESSES = [...new Set([...(access.allowedDomains ?? []), ...(access.devAllowedDomains ?? [])])];

const bare = (a: string) => a.trim().replace(/\/+$/, "").toLowerCase();

/** Whether the manifest lets the plugin connect to `address` ("*" allows any). */
export function manifestAllows(address: string, allowed: string[] = MANIFEST_ADDRESSES): boolean {
  return allowed.some((a) => a === "*" || bare(a) === bare(address));
}
