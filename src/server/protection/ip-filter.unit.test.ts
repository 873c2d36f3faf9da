import { describe, expect, it } from 'vitest';
import { createIpFilter, type IpRule } from './ip-filter.js';
import { parseCidr, parseIp, type IpAddress } from './ip.js';

const address = (text: string): IpAddress => parseIp(text)!;
let next = 0;
const rule = (
  scope: 'global' | 'tenant',
  list: 'allow' | 'block',
  cidr: string,
  tenantId: string | null = null,
): IpRule => ({
  id: `r${++next}`,
  scope,
  tenantId: scope === 'tenant' ? (tenantId ?? 'acme') : null,
  list,
  cidr: parseCidr(cidr)!,
});

describe('IP filter priority (seed: global block, tenant block, tenant allow, global allow, default)', () => {
  const rules = [
    rule('global', 'block', '198.51.100.50'),
    rule('global', 'allow', '10.0.0.0/8'),
    rule('global', 'allow', '198.51.100.0/24'),
    rule('tenant', 'block', '10.1.0.0/16', 'acme'),
    rule('tenant', 'allow', '10.1.2.0/24', 'acme'),
    rule('tenant', 'allow', '203.0.113.0/24', 'acme'),
  ];
  const filter = createIpFilter(rules, 'block');

  it('global block beats every allow', () => {
    expect(filter.check(address('198.51.100.50'), 'acme')).toMatchObject({
      allowed: false,
      reason: 'global_blocklist',
    });
  });
  it('tenant block beats the tenant allow and the global allow', () => {
    expect(filter.check(address('10.1.2.3'), 'acme')).toMatchObject({ allowed: false, reason: 'tenant_blocklist' });
  });
  it('tenant allow beats the default block, for that tenant only', () => {
    expect(filter.check(address('203.0.113.7'), 'acme')).toMatchObject({ allowed: true, reason: 'tenant_allowlist' });
    expect(filter.check(address('203.0.113.7'), 'globex')).toMatchObject({ allowed: false, reason: 'default_action' });
  });
  it('global allow beats the default, and another tenant’s block does not apply', () => {
    expect(filter.check(address('10.1.2.3'), 'globex')).toMatchObject({ allowed: true, reason: 'global_allowlist' });
  });
  it('the default action decides the rest', () => {
    expect(filter.check(address('192.0.2.1'), 'acme').allowed).toBe(false);
    expect(createIpFilter(rules, 'allow').check(address('192.0.2.1'), 'acme').allowed).toBe(true);
  });
  it('names the rule that decided', () => {
    expect(filter.check(address('198.51.100.50'), 'acme').ruleId).toBe(rules[0]!.id);
  });

  describe('before the tenant is known', () => {
    it('refuses a global block and a default block no allow entry covers', () => {
      expect(filter.checkBeforeTenant(address('198.51.100.50')).allowed).toBe(false);
      expect(filter.checkBeforeTenant(address('192.0.2.1')).allowed).toBe(false);
    });
    it('lets through what some tenant could allow, for the full check after authentication', () => {
      expect(filter.checkBeforeTenant(address('203.0.113.7')).allowed).toBe(true);
    });
  });
});
