import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseApiKey } from './api-key-format.js';
import type { IdentityContext } from './context.js';
import { IdentityConfigError } from './errors.js';
import { newUuidV4 } from './ids.js';
import type { BootstrapResult } from './service.js';
import { PLATFORM_TENANT } from './types.js';
import { inFirstRun } from './users.js';

const FIRST_ADMIN = 'admin';
const TENANT_ID = /^[a-z0-9_-]{1,64}$/;

/**
 * First start, and every start: registers ALLSOURCE_BOOTSTRAP_API_KEY (idempotently) as an
 * admin key, or, with no key given and no users or keys stored yet, creates the first admin with
 * a random password.
 * There is never a built-in password or key.
 */
export async function bootstrap(
  ctx: IdentityContext,
  options: { apiKey?: string; apiKeyTenant: string; adminPasswordFile: string },
): Promise<BootstrapResult> {
  if (options.apiKey !== undefined && options.apiKey !== '') {
    return { bootstrapKey: await registerBootstrapKey(ctx, options.apiKey, options.apiKeyTenant) };
  }
  if (!inFirstRun(ctx)) return {};
  const createdAdmin = await createFirstAdmin(ctx, options.adminPasswordFile);
  return createdAdmin ? { createdAdmin } : {};
}

/**
 * Registers the key as admin key 'bootstrap' of its tenant, creating the tenant when it does
 * not exist. Known already (same id, same secret, same tenant): nothing changes, and a key
 * that was revoked stays revoked (a restart must not undo a revocation).
 */
async function registerBootstrapKey(
  ctx: IdentityContext,
  apiKey: string,
  tenantId: string,
): Promise<NonNullable<BootstrapResult['bootstrapKey']>> {
  const parsed = parseApiKey(apiKey);
  if (!parsed) {
    throw new IdentityConfigError(
      'ALLSOURCE_BOOTSTRAP_API_KEY is not a well-formed API key: it must be "ask_" followed by 64 base64url ' +
        'characters (a 16-byte key id and a 32-byte secret), such as a key this server created',
    );
  }
  if (!TENANT_ID.test(tenantId)) {
    throw new IdentityConfigError('ALLSOURCE_BOOTSTRAP_TENANT_ID must be 1 to 64 characters of a-z, 0-9, _ and -');
  }
  const { statements } = ctx;
  const existing = statements.keyById.get(parsed.id);
  if (existing) {
    if (existing.tenant_id !== tenantId || !(await ctx.hasher.verify(existing.secret_hash, parsed.secret))) {
      throw new IdentityConfigError(
        'ALLSOURCE_BOOTSTRAP_API_KEY clashes with a registered key of the same id (another secret or another tenant)',
      );
    }
    return { id: parsed.id, tenant_id: tenantId, status: existing.revoked_at === null ? 'existing' : 'revoked' };
  }
  const secretHash = await ctx.hasher.hash(parsed.secret);
  const now = ctx.now();
  ctx.db.transaction(() => {
    if (!statements.tenantById.get(tenantId)) {
      statements.insertTenant.run(tenantId, tenantId, 'active', 'professional', now);
    }
    statements.insertKey.run(parsed.id, tenantId, 'bootstrap', 'admin', secretHash, now, null, 'bootstrap');
  })();
  ctx.directory.forgetTenant(tenantId);
  return { id: parsed.id, tenant_id: tenantId, status: 'registered' };
}

/**
 * Creates user 'admin' of the platform tenant with a random 24-character password, written to
 * `file` (mode 0600, in a 0700 directory when it makes one) before the account exists, so the
 * password cannot be lost. An existing file is never overwritten: that is an error to resolve by hand.
 */
async function createFirstAdmin(
  ctx: IdentityContext,
  file: string,
): Promise<BootstrapResult['createdAdmin'] | undefined> {
  const password = ctx.randomBytes(18).toString('base64url');
  const passwordHash = await ctx.hasher.hash(password);
  if (!inFirstRun(ctx)) return undefined;

  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, `username: ${FIRST_ADMIN}\npassword: ${password}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new IdentityConfigError(
      code === 'EEXIST'
        ? `${file} already exists but this database has no users: it belongs to an earlier database. ` +
            'Delete it (the password in it opens nothing) and start again'
        : `cannot write the first admin's password to ${file} (${code})`,
    );
  }
  const now = ctx.now();
  let created = false;
  try {
    ctx.db.transaction(() => {
      if (!inFirstRun(ctx)) return;
      created = true;
      ctx.statements.insertUser.run(
        newUuidV4(ctx.randomBytes),
        PLATFORM_TENANT,
        FIRST_ADMIN,
        '',
        'admin',
        passwordHash,
        now,
        now,
      );
    })();
  } catch (error) {
    created = false;
    throw error;
  } finally {
    // No account, no password file: a file must never name a password that opens nothing.
    if (!created) unlinkSync(file);
  }
  return created ? { username: FIRST_ADMIN, password, file } : undefined;
}
