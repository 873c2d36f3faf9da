/** The names that always reach a loopback server. 127.0.0.1 only: other 127/8 names are unusual enough to configure. */
export const LOOPBACK_HOST_NAMES = ['localhost', '127.0.0.1', '[::1]'] as const;

export interface HostCheckOptions {
  /**
   * Further names, e.g. `allsource.internal` (any port) or `allsource.internal:8443` (that port):
   * for a server reached through a proxy or by a LAN name.
   */
  allowedHosts: readonly string[];
}

/**
 * DNS-rebinding defence. A page on evil.example can make its own name resolve to 127.0.0.1,
 * and its requests then carry `Host: evil.example:8080`. So a request is served only when its
 * Host names this server: a loopback name with the server's own port, or a configured name.
 * Case-insensitive, a trailing dot ignored; a missing Host header is refused. The server's port
 * is the one the connection arrived on (the socket's local port), so a server bound to port 0
 * needs no telling.
 */
export function createHostCheck(
  options: HostCheckOptions,
): (host: string | undefined, localPort: number | undefined) => boolean {
  const withPort = new Set<string>();
  const anyPort = new Set<string>();
  for (const entry of options.allowedHosts) {
    const name = entry.trim().toLowerCase();
    if (name === '') continue;
    if (/:\d+$/.test(name)) withPort.add(name);
    else anyPort.add(name);
  }
  return function hostAllowed(host, localPort) {
    if (typeof host !== 'string' || host.length > 300) return false;
    const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+?)\.?(?::(\d{1,5}))?$/i.exec(host.trim());
    if (!match) return false;
    const name = match[1]!.toLowerCase();
    const port = match[2];
    if (port !== undefined && (LOOPBACK_HOST_NAMES as readonly string[]).includes(name)) {
      if (Number(port) === localPort) return true;
    }
    if (anyPort.has(name)) return true;
    return port !== undefined && withPort.has(`${name}:${port}`);
  };
}
