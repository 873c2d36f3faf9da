import { cidrContains, type Cidr, type IpAddress } from './ip.js';

export type IpAction = 'allow' | 'block';
export type IpScope = 'global' | 'tenant';

/** One allow or block entry (seed: IpFilter's global and per-tenant lists). */
export interface IpRule {
  id: string;
  scope: IpScope;
  /** Set exactly when scope is `tenant`. */
  tenantId: string | null;
  list: IpAction;
  cidr: Cidr;
}

export interface IpDecision {
  allowed: boolean;
  /** Which step of the priority order decided, for the 403's message and for logs. */
  reason:
    | 'temporary_block'
    | 'global_blocklist'
    | 'tenant_blocklist'
    | 'tenant_allowlist'
    | 'global_allowlist'
    | 'default_action';
  ruleId?: string;
}

/**
 * The seed's filter priority: global blocklist, tenant blocklist, tenant allowlist, global
 * allowlist, then the default action.
 */
export interface IpFilter {
  /** The full decision for a request of `tenantId`. */
  check(address: IpAddress, tenantId: string): IpDecision;
  /**
   * The decision before the tenant is known (the network layer runs before authentication).
   * Refuses only what no tenant rule could let through: a global block, or a default block
   * that neither a global nor any tenant's allow entry covers. Whatever it lets pass is
   * checked again with `check` once the tenant is known.
   */
  checkBeforeTenant(address: IpAddress): IpDecision;
}

function find(rules: readonly IpRule[], address: IpAddress, test: (rule: IpRule) => boolean): IpRule | undefined {
  return rules.find((rule) => test(rule) && cidrContains(rule.cidr, address));
}

/** A filter over a snapshot of the rules; rebuild it when they change. */
export function createIpFilter(rules: readonly IpRule[], defaultAction: IpAction): IpFilter {
  const globalBlock = rules.filter((rule) => rule.scope === 'global' && rule.list === 'block');
  const globalAllow = rules.filter((rule) => rule.scope === 'global' && rule.list === 'allow');
  const tenantRules = rules.filter((rule) => rule.scope === 'tenant');
  const decided = (allowed: boolean, reason: IpDecision['reason'], rule?: IpRule): IpDecision =>
    rule ? { allowed, reason, ruleId: rule.id } : { allowed, reason };

  return {
    check(address, tenantId) {
      const blocked = find(globalBlock, address, () => true);
      if (blocked) return decided(false, 'global_blocklist', blocked);
      const own = (list: IpAction) => (rule: IpRule) => rule.tenantId === tenantId && rule.list === list;
      const tenantBlocked = find(tenantRules, address, own('block'));
      if (tenantBlocked) return decided(false, 'tenant_blocklist', tenantBlocked);
      const tenantAllowed = find(tenantRules, address, own('allow'));
      if (tenantAllowed) return decided(true, 'tenant_allowlist', tenantAllowed);
      const allowed = find(globalAllow, address, () => true);
      if (allowed) return decided(true, 'global_allowlist', allowed);
      return decided(defaultAction === 'allow', 'default_action');
    },
    checkBeforeTenant(address) {
      const blocked = find(globalBlock, address, () => true);
      if (blocked) return decided(false, 'global_blocklist', blocked);
      const allowed = find(globalAllow, address, () => true);
      if (allowed) return decided(true, 'global_allowlist', allowed);
      const someTenantAllows = find(tenantRules, address, (rule) => rule.list === 'allow');
      if (someTenantAllows) return decided(true, 'tenant_allowlist', someTenantAllows);
      return decided(defaultAction === 'allow', 'default_action');
    },
  };
}
