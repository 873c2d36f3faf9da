import { isIPv4, isIPv6 } from 'node:net';

/**
 * An IP address as a number, so that CIDR matching is one shift and compare. IPv4-mapped IPv6
 * addresses (`::ffff:10.0.0.1`, what a dual-stack socket reports for an IPv4 peer) are turned
 * into the IPv4 address they carry: a rule for 10.0.0.0/8 must match them, and a block must not
 * be dodged by writing the same address the other way.
 */
export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

export interface Cidr {
  family: 4 | 6;
  /** The network address (host bits cleared). */
  network: bigint;
  prefix: number;
  /** The canonical text, e.g. `10.0.0.0/8` or `2001:db8::/32`. */
  text: string;
}

const BITS = { 4: 32, 6: 128 } as const;

function ipv4Value(text: string): bigint {
  return text.split('.').reduce((value, part) => (value << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Value(text: string): bigint {
  let head = text;
  let tailV4: bigint | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = ipv4Value(text.slice(lastColon + 1));
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const leftGroups = left ? left.split(':') : [];
  const rightGroups = right ? right.split(':') : [];
  const missing = 8 - leftGroups.length - rightGroups.length;
  const groups =
    right === undefined ? leftGroups : [...leftGroups, ...Array<string>(missing).fill('0'), ...rightGroups];
  let value = groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
  if (tailV4 !== undefined) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

/** Parses an IPv4 or IPv6 address (brackets and an IPv6 zone id are dropped); undefined when it is not one. */
export function parseIp(input: string): IpAddress | undefined {
  const text = input
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%[\w.-]+$/, '');
  if (isIPv4(text)) return { family: 4, value: ipv4Value(text) };
  if (!isIPv6(text)) return undefined;
  const value = ipv6Value(text.toLowerCase());
  if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - i * 16)) & 0xffffn));
  // The longest run of two or more zero groups becomes "::" (RFC 5952).
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length && j - i >= 2) best = { start: i, length: j - i };
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

/** The canonical text of an address: dotted IPv4 (also for mapped ones), RFC 5952 IPv6. */
export function formatIp(address: IpAddress): string {
  return address.family === 4 ? formatIpv4(address.value) : formatIpv6(address.value);
}

/**
 * Parses `address/prefix` or a bare address (a /32 or /128). Host bits must be zero, so that
 * `10.0.0.1/8` (probably a typo) is refused rather than silently widened. An IPv4-mapped IPv6
 * network with a prefix of 96 or more is stored as the IPv4 network it is.
 */
export function parseCidr(input: string): Cidr | undefined {
  const [addressText, prefixText, extra] = input.trim().split('/');
  if (addressText === undefined || extra !== undefined) return undefined;
  const plain = addressText.replace(/^\[(.*)\]$/, '$1');
  const written = isIPv6(plain) ? 6 : isIPv4(plain) ? 4 : undefined;
  const address = parseIp(plain);
  if (!address || written === undefined) return undefined;
  let prefix = prefixText === undefined ? BITS[written] : Number(prefixText);
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > BITS[written]) return undefined;
  if (written === 6 && address.family === 4) {
    // ::ffff:a.b.c.d/N covers IPv4 addresses only when N reaches past the mapped prefix.
    if (prefix < 96) return undefined;
    prefix -= 96;
  }
  const bits = BigInt(BITS[address.family]);
  const hostMask = (1n << (bits - BigInt(prefix))) - 1n;
  if ((address.value & hostMask) !== 0n) return undefined;
  return { family: address.family, network: address.value, prefix, text: `${formatIp(address)}/${prefix}` };
}

/** True when the address lies inside the network (families must match after mapping). */
export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  if (cidr.family !== address.family) return false;
  const shift = BigInt(BITS[cidr.family] - cidr.prefix);
  return address.value >> shift === cidr.network >> shift;
}
