import { randomUUID } from 'node:crypto';
import { InvalidRequestError, NotFoundError } from '../errors/index.js';
import { IpRuleConflictError } from './errors.js';
import { parseCidr } from './ip.js';
import type { IpAction, IpRule, IpScope } from './ip-filter.js';
import type { IpRuleRow, ProtectionStatements } from './statements.js';

/** An IP rule as the API shows it. */
export interface IpRuleView {
  id: string;
  scope: IpScope;
  tenant_id: string | null;
  list: IpAction;
  cidr: string;
  note: string | null;
  created_at: string;
}

export interface NewIpRule {
  scope: IpScope;
  tenantId: string | null;
  list: IpAction;
  cidr: string;
  note?: string | undefined;
}

export function toIpRule(row: IpRuleRow): IpRule | undefined {
  const cidr = parseCidr(row.cidr);
  return cidr ? { id: row.id, scope: row.scope, tenantId: row.tenant_id, list: row.list, cidr } : undefined;
}

export function toIpRuleView(row: IpRuleRow): IpRuleView {
  return { ...row, created_at: new Date(row.created_at).toISOString() };
}

/** The persisted IP rules: SQL stays here, the filter works on the parsed snapshot. */
export function createIpRuleRepository(
  statements: ProtectionStatements,
  now: () => number,
  newId: () => string = randomUUID,
) {
  return {
    all: (): IpRuleRow[] => statements.listIpRules.all(),
    find: (id: string): IpRuleRow | undefined => statements.ipRuleById.get(id),
    add(rule: NewIpRule): IpRuleRow {
      const cidr = parseCidr(rule.cidr);
      if (!cidr) {
        throw new InvalidRequestError('cidr must be an IPv4 or IPv6 address or network with zero host bits', [
          { path: '/cidr', problem: 'must be an address or a network such as 10.0.0.0/8 or 2001:db8::/32' },
        ]);
      }
      const row: IpRuleRow = {
        id: newId(),
        scope: rule.scope,
        tenant_id: rule.scope === 'tenant' ? rule.tenantId : null,
        list: rule.list,
        cidr: cidr.text,
        note: rule.note ?? null,
        created_at: now(),
      };
      try {
        statements.insertIpRule.run(row.id, row.scope, row.tenant_id, row.list, row.cidr, row.note, row.created_at);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new IpRuleConflictError(`this ${row.list} rule for ${row.cidr} already exists`, { cidr: row.cidr });
        }
        if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
          throw new NotFoundError(`tenant ${JSON.stringify(row.tenant_id)} does not exist`);
        }
        throw error;
      }
      return row;
    },
    remove(id: string): void {
      if (statements.deleteIpRule.run(id).changes === 0)
        throw new NotFoundError(`IP rule ${JSON.stringify(id)} does not exist`);
    },
  };
}

export type IpRuleRepository = ReturnType<typeof createIpRuleRepository>;
