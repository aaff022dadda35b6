// Where the companion listens. The plugin may only connect to `ws://localhost:…` (Figma's manifest
// refuses IP literals), and `localhost` resolves to ::1 first on some systems and 127.0.0.1 on
// others, so by default it listens on both loopback addresses with the same port.
import type { Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";

export const LOOPBACK_ADDRESSES = ["127.0.0.1", "::1"] as const;

/** An HTTP(S) server with the companion's handlers, not yet listening. */
export type Server = HttpServer | HttpsServer;

export interface Listening {
  /** One HTTP server per address, all with the same handlers. */
  servers: Server[];
  port: number;
  /** The addresses actually listened on. */
  addresses: string[];
  /** Why an address of the default pair was left out (IPv6 disabled), for the start-up line. */
  note?: string;
}

// Errors that mean "this machine has no IPv6 loopback", not "something is wrong".
const NO_IPV6 = new Set(["EADDRNOTAVAIL", "EAFNOSUPPORT", "EINVAL"]);

/** Listen on `host`, or (no host) on both `pair` addresses (127.0.0.1 and ::1) with the same port. */
export async function listenLoopback(
  host: string | undefined,
  port: number,
  make: () => Server,
  pair: readonly [string, string] = LOOPBACK_ADDRESSES,
): Promise<Listening> {
  if (host !== undefined) {
    const server = await listenOn(make(), port, host);
    return { servers: [server], port: portOf(server), addresses: [host] };
  }
  // With port 0 the port is picked on 127.0.0.1; it may happen to be taken on ::1: pick again.
  for (let tries = 1; ; tries++) {
    const v4 = await listenOn(make(), port, pair[0]);
    const chosen = portOf(v4);
    try {
      const v6 = await listenOn(make(), chosen, pair[1]);
      return { servers: [v4, v6], port: chosen, addresses: [...pair] };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "";
      if (NO_IPV6.has(code)) {
        const note = `the address ${pair[1]} is not available here (${code}), so only ${pair[0]} is served`;
        return { servers: [v4], port: chosen, addresses: [pair[0]], note };
      }
      v4.close();
      if (code !== "EADDRINUSE" || port !== 0 || tries >= 5) throw err;
    }
  }
}

function listenOn(server: Server, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

function portOf(server: Server): number {
  const address = server.address();
  return typeof address === "object" && address ? address.port : 0;
}
