// The Content-Security-Policy the harness serves the plugin UI with, as Figma confines a plugin's
// iframe: network only to the manifest's networkAccess domains, images and workers only from
// `data:` (blob: URLs fail in Figma's null-origin iframe), inline script and style (the UI is one
// HTML file). The only liberty taken: the test companion's port replaces the manifest's port, so
// tests can run beside a designer's own companion; scheme and host name must match exactly.

type Manifest = { networkAccess?: { allowedDomains?: string[]; devAllowedDomains?: string[] } };

/** The connect-src sources a Figma dev import of this manifest allows, with the port swapped. */
export function allowedSockets(manifest: Manifest, port: number): string[] {
  const na = manifest.networkAccess ?? {};
  const domains = [...(na.allowedDomains ?? []), ...(na.devAllowedDomains ?? [])].filter((d) => d !== "none");
  return [...new Set(domains.map((d) => d.replace(/:\d+(?=\/|$)/, `:${port}`)))];
}

export function figmaCsp(manifest: Manifest, port: number): string {
  return [
    "default-src 'none'",
    "script-src 'unsafe-inline'",
    "style-src 'unsafe-inline'",
    "img-src data:",
    "font-src data:",
    "worker-src data:",
    `connect-src ${allowedSockets(manifest, port).join(" ") || "'none'"}`,
  ].join("; ");
}
