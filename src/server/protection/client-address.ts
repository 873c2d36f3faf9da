import { cidrContains, parseIp, type Cidr, type IpAddress } from './ip.js';

/** Undefined stands for a peer whose address the socket no longer knows (it has closed). */
export interface ClientAddressInput {
  peer: string | undefined;
  /** The X-Forwarded-For header(s) as received, if any. */
  forwardedFor: string | string[] | undefined;
}

/**
 * The address a request comes from. X-Forwarded-For counts only when the socket peer is a
 * configured trusted proxy, since anyone else can write that header. The header is read from
 * the right, skipping trusted proxies: the first other entry is the one our own proxy saw, and
 * everything left of it was written by the client. An entry that is not an address ends the walk
 * at the last trusted hop rather than trusting text we cannot parse.
 */
export function createClientAddressResolver(trustedProxies: readonly Cidr[]) {
  const trusted = (address: IpAddress) => trustedProxies.some((cidr) => cidrContains(cidr, address));
  return function clientAddress({ peer, forwardedFor }: ClientAddressInput): IpAddress | undefined {
    const peerAddress = peer === undefined ? undefined : parseIp(peer);
    if (!peerAddress || !trusted(peerAddress) || forwardedFor === undefined) return peerAddress;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
      .split(',')
      .map((hop) => hop.trim())
      .filter((hop) => hop !== '');
    let client = peerAddress;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = parseIp(hops[i]!);
      if (!hop) return client;
      client = hop;
      if (!trusted(hop)) return hop;
    }
    return client;
  };
}

export type ClientAddressResolver = ReturnType<typeof createClientAddressResolver>;
