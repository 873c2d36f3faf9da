import { describe, expect, it } from 'vitest';
import { cidrContains, formatIp, parseCidr, parseIp } from './ip.js';

const ip = (text: string) => {
  const parsed = parseIp(text);
  if (!parsed) throw new Error(`not an address: ${text}`);
  return parsed;
};
const cidr = (text: string) => {
  const parsed = parseCidr(text);
  if (!parsed) throw new Error(`not a CIDR: ${text}`);
  return parsed;
};

describe('parseIp', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['2001:DB8::0:1', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['::ffff:a00:1', '10.0.0.1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ])('%s reads as %s', (text, canonical) => {
    expect(formatIp(ip(text))).toBe(canonical);
  });

  it('normalises IPv4-mapped IPv6 addresses to IPv4', () => {
    expect(ip('::ffff:127.0.0.1')).toEqual({ family: 4, value: 0x7f000001n });
  });

  it.each(['', 'localhost', '256.0.0.1', '1.2.3', '::g', '1::2::3', '10.0.0.1/8', ' ', '01.2.3.4x'])(
    'refuses %j',
    (text) => {
      expect(parseIp(text)).toBeUndefined();
    },
  );
});

describe('parseCidr and cidrContains', () => {
  it('matches IPv4 networks, bare addresses and the whole space', () => {
    expect(cidrContains(cidr('10.0.0.0/8'), ip('10.255.1.2'))).toBe(true);
    expect(cidrContains(cidr('10.0.0.0/8'), ip('11.0.0.1'))).toBe(false);
    expect(cidrContains(cidr('192.168.1.100'), ip('192.168.1.100'))).toBe(true);
    expect(cidrContains(cidr('192.168.1.100'), ip('192.168.1.101'))).toBe(false);
    expect(cidrContains(cidr('0.0.0.0/0'), ip('203.0.113.9'))).toBe(true);
  });

  it('matches IPv6 networks and keeps the families apart', () => {
    expect(cidrContains(cidr('2001:db8::/32'), ip('2001:db8:ffff::1'))).toBe(true);
    expect(cidrContains(cidr('2001:db8::/32'), ip('2001:db9::1'))).toBe(false);
    expect(cidrContains(cidr('::/0'), ip('10.0.0.1'))).toBe(false);
  });

  it('lets an IPv4 rule match the IPv4-mapped form a dual-stack socket reports, and the reverse', () => {
    expect(cidrContains(cidr('10.0.0.0/8'), ip('::ffff:10.9.8.7'))).toBe(true);
    expect(cidr('::ffff:10.0.0.0/104').text).toBe('10.0.0.0/8');
    expect(cidrContains(cidr('::ffff:10.0.0.0/104'), ip('10.1.1.1'))).toBe(true);
  });

  it('gives canonical text', () => {
    expect(cidr('2001:DB8:0::/32').text).toBe('2001:db8::/32');
    expect(cidr('127.0.0.1').text).toBe('127.0.0.1/32');
  });

  it.each([
    '10.0.0.1/8',
    '10.0.0.0/33',
    '::/129',
    '10.0.0.0/-1',
    '10.0.0.0/8/8',
    '10.0.0.0/',
    'x/8',
    '::ffff:0:0/90',
    '1.2.3.4/ 8',
  ])('refuses %j', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
});
