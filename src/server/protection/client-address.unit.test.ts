import { describe, expect, it } from 'vitest';
import { createClientAddressResolver } from './client-address.js';
import { formatIp, parseCidr } from './ip.js';

const resolver = createClientAddressResolver([parseCidr('127.0.0.1')!, parseCidr('10.0.0.0/8')!]);
const client = (peer: string | undefined, forwardedFor?: string | string[]) => {
  const address = resolver({ peer, forwardedFor });
  return address && formatIp(address);
};

describe('client address', () => {
  it('is the socket peer when no proxy is trusted for it', () => {
    expect(client('203.0.113.9', '1.2.3.4')).toBe('203.0.113.9');
  });
  it('normalises an IPv4-mapped peer', () => {
    expect(client('::ffff:203.0.113.9')).toBe('203.0.113.9');
  });
  it('takes X-Forwarded-For through a trusted proxy, from the right, skipping trusted hops', () => {
    expect(client('127.0.0.1', '198.51.100.7')).toBe('198.51.100.7');
    expect(client('127.0.0.1', '6.6.6.6, 198.51.100.7, 10.1.1.1')).toBe('198.51.100.7');
    expect(client('::ffff:127.0.0.1', ['6.6.6.6', '198.51.100.7'])).toBe('198.51.100.7');
  });
  it('stops at the last trusted hop when an entry is not an address', () => {
    expect(client('127.0.0.1', 'evil, 10.2.2.2')).toBe('10.2.2.2');
    expect(client('127.0.0.1', 'garbage')).toBe('127.0.0.1');
  });
  it('is the proxy itself when every hop is trusted, and undefined without a peer', () => {
    expect(client('127.0.0.1', '10.0.0.5')).toBe('10.0.0.5');
    expect(client(undefined, '1.2.3.4')).toBeUndefined();
  });
});
