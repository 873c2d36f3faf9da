import type { ApiKeyInfo, Principal, RateTier, Role, Tenant, TenantStatus, User } from './types.js';

export interface RegisterInput {
  username: string;
  email: string;
  password: string;
  role?: Role;
  /** Only platform admins may name another tenant; everyone else registers into their own. */
  tenant_id?: string;
}

export interface CreatedApiKey {
  id: string;
  name: string;
  role: Role;
  tenant_id: string;
  /** The raw key: returned once, never stored, never shown again. */
  key: string;
  expires_at: string | null;
}

/**
 * Runs inside the transaction of a write that first awaits (argon2): throwing undoes the write.
 * The audit trail (issue 6) records through it, so the record and the change commit together.
 */
export type WriteHook<T> = (result: T) => void;

export interface BootstrapResult {
  /** Set when this start created the first admin account: its one-time password and where it was written. */
  createdAdmin?: { username: string; password: string; file: string };
  /**
   * Set when ALLSOURCE_BOOTSTRAP_API_KEY was given: `registered` by this start, `existing` from
   * an earlier one, or `revoked` (it was revoked since, and a restart does not undo that).
   */
  bootstrapKey?: { id: string; tenant_id: string; status: 'registered' | 'existing' | 'revoked' };
}

/**
 * Tenants, users, passwords, tokens and API keys. Every method that reads or changes data of a
 * tenant takes that tenant explicitly; none crosses tenants. Errors are typed (./errors.ts):
 * UnauthorizedError (401), ForbiddenError and TenantSuspendedError (403), NotFoundError (404),
 * ConflictError (409), InvalidRequestError (400).
 */
export interface IdentityService {
  /**
   * Turns a credential (a JWT, or an `ask_` API key) into a Principal. Throws UnauthorizedError
   * for anything missing, malformed, expired, revoked or forged, and TenantSuspendedError when
   * the credential's tenant is suspended.
   */
  authenticate(credential: string): Promise<Principal>;
  /** Same answer time for an unknown user as for a wrong password. */
  login(username: string, password: string): Promise<{ token: string; user: User }>;
  /** Revokes the principal's token until it would have expired. */
  logout(principal: Principal): void;
  /** Ends every token issued to the user before the change. */
  changePassword(
    principal: Principal,
    currentPassword: string,
    newPassword: string,
    within?: WriteHook<void>,
  ): Promise<void>;
  me(principal: Principal): User | ApiKeyInfo;

  /** `actor` is undefined only for first-run setup (no users exist yet): the account is then an admin of the platform tenant. */
  register(actor: Principal | undefined, input: RegisterInput, within?: WriteHook<User>): Promise<User>;
  hasUsers(): boolean;
  /** True when any API key exists (revoked or not): then first-run setup is over. */
  hasApiKeys(): boolean;
  listUsers(tenantId: string): User[];
  setRole(tenantId: string, userId: string, role: Role): User;
  deleteUser(tenantId: string, userId: string): void;

  createApiKey(
    principal: Principal,
    input: { name: string; role?: Role; expires_in_days?: number },
    within?: WriteHook<CreatedApiKey>,
  ): Promise<CreatedApiKey>;
  listApiKeys(tenantId: string): ApiKeyInfo[];
  revokeApiKey(tenantId: string, keyId: string): void;
  /**
   * For automated enforcement (anomaly detection): revokes the key and returns the time of that
   * revocation, or undefined when it was revoked already. NotFoundError for a key of another tenant.
   */
  revokeApiKeyReversibly(tenantId: string, keyId: string): number | undefined;
  /** Undoes the revocation made at `revokedAt` (only that one); false when there is none to undo. */
  reinstateApiKey(tenantId: string, keyId: string, revokedAt: number): boolean;
  /** Ends every token the user holds (as a password change does) without changing the password. */
  endSessions(tenantId: string, userId: string): void;

  createTenant(input: { tenant_id: string; name: string; rate_tier?: RateTier }): Tenant;
  listTenants(): Tenant[];
  getTenant(tenantId: string): Tenant;
  updateTenant(tenantId: string, changes: { name?: string; rate_tier?: RateTier }): Tenant;
  setTenantStatus(tenantId: string, status: TenantStatus): Tenant;
  /** Refused (ConflictError) for the platform tenant and for a tenant that still holds events, users or keys. */
  deleteTenant(tenantId: string): void;

  /**
   * At start: registers ALLSOURCE_BOOTSTRAP_API_KEY (idempotently) as an admin key of its
   * tenant; with no users and no bootstrap key, creates an admin with a random password.
   */
  bootstrap(options: { apiKey?: string; apiKeyTenant: string; adminPasswordFile: string }): Promise<BootstrapResult>;
}
