// DNS-rebinding defence: a page on evil.example can point its own name at 127.0.0.1, but its
// requests still carry "Host: evil.example". Only loopback names may reach the companion.

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "::1"]);

/** The host name of a Host header ("localhost:47615", "[::1]:1"), lower-cased, without port. */
export function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const h = header.trim().toLowerCase();
  const m = h.startsWith("[") ? /^\[([^\]]+)\](?::\d+)?$/.exec(h) : /^([^:]+)(?::\d+)?$/.exec(h);
  return m?.[1];
}

export function isLoopbackHost(header: string | undefined): boolean {
  const name = hostName(header);
  return name !== undefined && LOOPBACK_NAMES.has(name);
}
