import { cidrContains, formatIp, parseCidr, parseIp, type IpAddress } from '../protection/index.js';
import type { AnomalyStatements } from './statements.js';

const LOOPBACK = [parseCidr('127.0.0.0/8')!, parseCidr('::1/128')!];

/** 127.0.0.0/8 and ::1 (IPv4-mapped forms included, parseIp unwraps them). */
export function isLoopback(address: IpAddress): boolean {
  return LOOPBACK.some((cidr) => cidrContains(cidr, address));
}

/** The canonical text of an address, or undefined when it is not one. */
export function canonicalAddress(text: string): string | undefined {
  const parsed = parseIp(text);
  return parsed ? formatIp(parsed) : undefined;
}

/**
 * The live temporary blocks, by canonical address, with their expiry: the IP filter asks on
 * every request, so this is a Map lookup, kept in step with anomaly_actions by every change
 * made through this process (the only writer), and loaded from it at start.
 */
export interface TemporaryBlocks {
  isBlocked(address: IpAddress): boolean;
  add(address: string, expiresAt: number): void;
  remove(address: string): void;
}

export function createTemporaryBlocks(statements: AnomalyStatements, now: () => number): TemporaryBlocks {
  const blocks = new Map<string, number>();
  for (const row of statements.liveBlocks.all(now())) {
    blocks.set(row.target, Math.max(blocks.get(row.target) ?? 0, row.expires_at ?? 0));
  }
  return {
    isBlocked(address) {
      if (blocks.size === 0) return false;
      const key = formatIp(address);
      const until = blocks.get(key);
      if (until === undefined) return false;
      if (until > now()) return true;
      blocks.delete(key); // expired: the row stays as history
      return false;
    },
    add(address, expiresAt) {
      blocks.set(address, Math.max(blocks.get(address) ?? 0, expiresAt));
    },
    remove(address) {
      // Another live block of the same address (from another tenant's finding) keeps it out.
      const rest = statements.liveBlocks.all(now()).filter((row) => row.target === address);
      if (rest.length === 0) blocks.delete(address);
      else blocks.set(address, Math.max(...rest.map((row) => row.expires_at ?? 0)));
    },
  };
}
