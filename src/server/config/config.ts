import { accessSync, constants, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { DomainError } from '../errors/index.js';
import { canonicalOrigin, parseCidr } from '../protection/index.js';
import { platformDirs } from './paths.js';

/** The configuration could not be used; the message is one line meant for a person. */
export class ConfigError extends DomainError {
  readonly code = 'config_invalid';
}

export type Durability = 'full' | 'normal';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';

export interface Config {
  host: string;
  port: number;
  /** Holds the encrypted database; never the master key. */
  dataDir: string;
  /** Holds the master key file (when that protector is used); never inside dataDir. */
  configDir: string;
  keyFile: string;
  /**
   * `key_protector`: where the master key comes from. Unset: the passphrase file if it exists,
   * else the key file. ALLSOURCE_MASTER_KEY wins over all of them when set.
   */
  keyProtector: 'file' | 'env' | 'passphrase' | 'pkcs11' | undefined;
  /** The master key wrapped under argon2id(passphrase); never inside dataDir. */
  passphraseFile: string;
  /** The PKCS#11 token settings (`key_protector: "pkcs11"`); the PIN comes from ALLSOURCE_PKCS11_PIN only. */
  pkcs11: { module: string; tokenLabel: string; keyLabel: string; wrappedKeyFile: string } | undefined;
  durability: Durability;
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
  sseHeartbeatMs: number;
  /** Bytes queued for one WebSocket client before its events are dropped (and it is told it lagged). */
  wsMaxBufferedBytes: number;
  logLevel: LogLevel;
  /** ALLSOURCE_DEV_MODE: requests without credentials act as dev-user of dev-tenant, an admin. Loopback only. */
  devMode: boolean;
  /** Lifetime of the JWTs that login issues. */
  tokenTtlSeconds: number;
  /** ALLSOURCE_BOOTSTRAP_API_KEY: registered at start as an admin key of bootstrapTenantId. */
  bootstrapApiKey: string | undefined;
  bootstrapTenantId: string;
  /** Where the first admin's one-time password is written (0600) when the server creates it. */
  adminPasswordFile: string;
  /** The built admin UI, served at `/`; absent until `npm run build` has run. */
  uiDir: string | undefined;
  /** Request protection (README, "Request protection"). */
  protection: ProtectionSettings;
  /** The audit trail (README, "Audit"). */
  audit: AuditConfig;
  /** Anomaly detection over the audit stream (README, "Anomaly detection"). */
  anomaly: AnomalySettings;
}

/** Start-time settings of anomaly detection. */
export interface AnomalySettings {
  /** ALLSOURCE_ANOMALY_DETECTION=off: no detection at all. */
  enabled: boolean;
  /** ALLSOURCE_ANOMALY_ENFORCEMENT: Block and RevokeAccess act (off by default: findings only). */
  enforcement: boolean;
  /** ALLSOURCE_ANOMALY_THRESHOLD: findings at or above this score alert (0.7, the seed's). */
  threshold: number;
  /** ALLSOURCE_ANOMALY_BLOCK_MINUTES: how long an enforcement Block lasts. */
  blockMinutes: number;
}

export interface AuditConfig {
  /** ALLSOURCE_AUDIT=off records nothing: for the bench's on/off comparison only, never for use. */
  enabled: boolean;
  /** Sign a checkpoint once a tenant's chain grew by this many records… */
  checkpointEvery: number;
  /** …or after this many milliseconds, if it grew at all. */
  checkpointIntervalMs: number;
  /** Every checkpoint is also appended here, outside the database. */
  checkpointFile: string;
}

/** Start-time settings of the protection layer; the rest is managed at /api/v1/security/settings. */
export interface ProtectionSettings {
  /** ALLSOURCE_PROTECTION=off drops the whole chain: for the bench's comparison only, never for use. */
  enabled: boolean;
  /** Host names accepted besides localhost, 127.0.0.1 and [::1] with the server's port. */
  allowedHosts: string[];
  /** CIDRs of proxies whose X-Forwarded-For is believed. */
  trustedProxies: string[];
  /** Starting CORS allowlist (exact origins). */
  corsOrigins: string[];
  defaultIpAction: 'allow' | 'block';
  /** Replaces every tenant's tier (not explicit overrides): for test and bench servers that send thousands of requests. */
  rateLimitTier: 'free' | 'professional' | 'unlimited' | 'dev_mode' | undefined;
  /** HTTPS with this certificate and key (PEM files); both or neither. */
  tls: { certFile: string; keyFile: string } | undefined;
}

/** Command-line flags, already split by the CLI; every one is optional. */
export interface ConfigFlags {
  host?: string;
  port?: string;
  dataDir?: string;
  config?: string;
}

export const MIB = 1024 * 1024;

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const;

/** A list: a JSON array in the config file, comma-separated in the environment. */
const list = (item: z.ZodString | z.ZodType<string>) =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((entry) => entry.trim())
            .filter((entry) => entry !== '')
        : value,
    z.array(item).max(100),
  );

// One schema serves the config file and the environment, so both are checked the same way.
const settingsSchema = z
  .object({
    host: z.string().min(1),
    port: z.coerce.number().int().min(0).max(65535),
    data_dir: z.string().min(1),
    key_file: z.string().min(1),
    key_protector: z.enum(['file', 'env', 'passphrase', 'pkcs11']),
    passphrase_file: z.string().min(1),
    pkcs11_module: z.string().min(1),
    pkcs11_token_label: z.string().min(1).max(32),
    pkcs11_key_label: z.string().min(1).max(128),
    pkcs11_wrapped_key_file: z.string().min(1),
    durability: z.enum(['full', 'normal']),
    max_body_bytes: z.coerce
      .number()
      .int()
      .min(1024)
      .max(256 * MIB),
    sse_heartbeat_seconds: z.coerce.number().min(1).max(3600),
    ws_max_buffered_bytes: z.coerce
      .number()
      .int()
      .min(64 * 1024)
      .max(256 * MIB),
    log_level: z.enum(logLevels),
    dev_mode: z.enum(['true', 'false', '1', '0']).or(z.boolean()),
    token_ttl_seconds: z.coerce
      .number()
      .int()
      .min(60)
      .max(366 * 24 * 3600),
    bootstrap_tenant_id: z.string().regex(/^[a-z0-9_-]{1,64}$/, 'must be 1 to 64 of a-z, 0-9, _ and -'),
    ui_dir: z.string().min(1),
    protection: z.enum(['on', 'off']),
    audit: z.enum(['on', 'off']),
    audit_checkpoint_records: z.coerce.number().int().min(1).max(1_000_000),
    audit_checkpoint_seconds: z.coerce.number().min(1).max(86_400),
    allowed_hosts: list(
      z
        .string()
        .regex(
          /^[a-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i,
          'must be a host name, optionally with :port',
        ),
    ),
    trusted_proxies: list(z.string().refine((value) => parseCidr(value) !== undefined, 'must be an address or CIDR')),
    cors_origins: list(z.string().refine((value) => canonicalOrigin(value) !== undefined, 'must be an http(s) origin')),
    default_ip_action: z.enum(['allow', 'block']),
    rate_limit_tier: z.enum(['free', 'professional', 'unlimited', 'dev_mode']),
    tls_cert_file: z.string().min(1),
    tls_key_file: z.string().min(1),
    anomaly_detection: z.enum(['on', 'off']),
    anomaly_enforcement: z.enum(['true', 'false', '1', '0']).or(z.boolean()),
    anomaly_threshold: z.coerce.number().gt(0).max(1),
    anomaly_block_minutes: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60),
  })
  .partial()
  .strict();

type Settings = z.infer<typeof settingsSchema>;

const envNames: Record<keyof Settings, string> = {
  host: 'ALLSOURCE_HOST',
  port: 'ALLSOURCE_PORT',
  data_dir: 'ALLSOURCE_DATA_DIR',
  key_file: 'ALLSOURCE_KEY_FILE',
  key_protector: 'ALLSOURCE_KEY_PROTECTOR',
  passphrase_file: 'ALLSOURCE_PASSPHRASE_FILE',
  pkcs11_module: 'ALLSOURCE_PKCS11_MODULE',
  pkcs11_token_label: 'ALLSOURCE_PKCS11_TOKEN_LABEL',
  pkcs11_key_label: 'ALLSOURCE_PKCS11_KEY_LABEL',
  pkcs11_wrapped_key_file: 'ALLSOURCE_PKCS11_WRAPPED_KEY_FILE',
  durability: 'ALLSOURCE_DURABILITY',
  max_body_bytes: 'ALLSOURCE_MAX_BODY_BYTES',
  sse_heartbeat_seconds: 'ALLSOURCE_SSE_HEARTBEAT_SECONDS',
  ws_max_buffered_bytes: 'ALLSOURCE_WS_MAX_BUFFERED_BYTES',
  log_level: 'ALLSOURCE_LOG_LEVEL',
  dev_mode: 'ALLSOURCE_DEV_MODE',
  token_ttl_seconds: 'ALLSOURCE_TOKEN_TTL_SECONDS',
  bootstrap_tenant_id: 'ALLSOURCE_BOOTSTRAP_TENANT_ID',
  ui_dir: 'ALLSOURCE_UI_DIR',
  protection: 'ALLSOURCE_PROTECTION',
  audit: 'ALLSOURCE_AUDIT',
  audit_checkpoint_records: 'ALLSOURCE_AUDIT_CHECKPOINT_RECORDS',
  audit_checkpoint_seconds: 'ALLSOURCE_AUDIT_CHECKPOINT_SECONDS',
  allowed_hosts: 'ALLSOURCE_ALLOWED_HOSTS',
  trusted_proxies: 'ALLSOURCE_TRUSTED_PROXIES',
  cors_origins: 'ALLSOURCE_CORS_ORIGINS',
  default_ip_action: 'ALLSOURCE_DEFAULT_IP_ACTION',
  rate_limit_tier: 'ALLSOURCE_RATE_LIMIT_TIER',
  tls_cert_file: 'ALLSOURCE_TLS_CERT_FILE',
  tls_key_file: 'ALLSOURCE_TLS_KEY_FILE',
  anomaly_detection: 'ALLSOURCE_ANOMALY_DETECTION',
  anomaly_enforcement: 'ALLSOURCE_ANOMALY_ENFORCEMENT',
  anomaly_threshold: 'ALLSOURCE_ANOMALY_THRESHOLD',
  anomaly_block_minutes: 'ALLSOURCE_ANOMALY_BLOCK_MINUTES',
};

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

function readConfigFile(file: string): Settings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`config file ${file} cannot be read (${reason})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`config file ${file} is invalid: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

function readEnv(env: NodeJS.ProcessEnv): Settings {
  const raw: Record<string, string> = {};
  for (const [key, name] of Object.entries(envNames)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = envNames[issue?.path[0] as keyof Settings] ?? 'environment';
    throw new ConfigError(`${name} is invalid: ${issue?.message ?? 'bad value'}`);
  }
  return parsed.data;
}

function readFlags(flags: ConfigFlags): Settings {
  const raw: Record<string, string> = {};
  if (flags.host !== undefined) raw['host'] = flags.host;
  if (flags.port !== undefined) raw['port'] = flags.port;
  if (flags.dataDir !== undefined) raw['data_dir'] = flags.dataDir;
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = issue?.path[0] === 'data_dir' ? 'data-dir' : String(issue?.path[0]);
    throw new ConfigError(`--${flag} is invalid: ${issue?.message ?? 'bad value'}`);
  }
  return parsed.data;
}

/** True for the addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare) || bare === '::ffff:127.0.0.1';
}

export interface LoadConfigOptions {
  flags?: ConfigFlags;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The built UI shipped with this installation, used when `ui_dir` is not set. */
  defaultUiDir?: string;
}

/**
 * Resolves the configuration once, at start: flags > environment > config file > defaults.
 * Throws ConfigError with a one-line, human message for anything unusable.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const flags = options.flags ?? {};
  const configFile = flags.config ?? env['ALLSOURCE_CONFIG'];
  const fromFile = configFile ? readConfigFile(resolve(cwd, configFile)) : {};
  const settings: Settings = { ...fromFile, ...readEnv(env), ...readFlags(flags) };

  const platform = platformDirs();
  const configDir = resolve(cwd, env['ALLSOURCE_CONFIG_DIR'] || platform.configDir);
  const dataDir = resolve(cwd, settings.data_dir ?? platform.dataDir);
  const keyFile = resolve(cwd, settings.key_file ?? join(configDir, 'master.key'));
  const host = settings.host ?? '127.0.0.1';

  const devMode = settings.dev_mode === true || settings.dev_mode === 'true' || settings.dev_mode === '1';
  if (devMode && !isLoopbackHost(host)) {
    throw new ConfigError(
      `refusing to start in dev mode on ${host}: dev mode lets requests without credentials act as an admin, so it binds to loopback only (127.0.0.1 or ::1)`,
    );
  }
  const passphraseFile = resolve(cwd, settings.passphrase_file ?? join(configDir, 'master-key.passphrase.json'));
  const wrappedKeyFile = resolve(cwd, settings.pkcs11_wrapped_key_file ?? join(configDir, 'master-key.pkcs11.json'));
  const insideData = (file: string) =>
    file === dataDir || file.startsWith(dataDir.endsWith('/') ? dataDir : `${dataDir}/`);
  for (const [what, file] of [
    ['master key file', keyFile],
    ['passphrase file', passphraseFile],
    ['PKCS#11 wrapped key file', wrappedKeyFile],
  ] as const) {
    if (insideData(file)) {
      throw new ConfigError(
        `the ${what} ${file} must not be inside the data directory ${dataDir}: a copy of the data would carry its key`,
      );
    }
  }
  let pkcs11: Config['pkcs11'];
  if (settings.key_protector === 'pkcs11') {
    const { pkcs11_module: module, pkcs11_token_label: tokenLabel, pkcs11_key_label: keyLabel } = settings;
    if (!module || !tokenLabel || !keyLabel) {
      throw new ConfigError(
        'key_protector "pkcs11" needs pkcs11_module, pkcs11_token_label and pkcs11_key_label (the PIN goes in ALLSOURCE_PKCS11_PIN)',
      );
    }
    pkcs11 = { module: resolve(cwd, module), tokenLabel, keyLabel, wrappedKeyFile };
  }
  const uiDir = settings.ui_dir ?? options.defaultUiDir;
  if ((settings.tls_cert_file === undefined) !== (settings.tls_key_file === undefined)) {
    throw new ConfigError(
      'TLS needs both tls_cert_file and tls_key_file (ALLSOURCE_TLS_CERT_FILE, ALLSOURCE_TLS_KEY_FILE)',
    );
  }
  // Checked here, before the data directory is locked and the database opened.
  for (const [what, file] of [
    ['certificate', settings.tls_cert_file],
    ['key', settings.tls_key_file],
  ] as const) {
    if (file === undefined) continue;
    try {
      accessSync(resolve(cwd, file), constants.R_OK);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError(`the TLS ${what} file ${resolve(cwd, file)} cannot be read (${reason})`);
    }
  }

  return {
    host,
    port: settings.port ?? 8080,
    dataDir,
    configDir,
    keyFile,
    keyProtector: settings.key_protector,
    passphraseFile,
    pkcs11,
    durability: settings.durability ?? 'full',
    maxBodyBytes: settings.max_body_bytes ?? MIB,
    sseHeartbeatMs: (settings.sse_heartbeat_seconds ?? 15) * 1000,
    wsMaxBufferedBytes: settings.ws_max_buffered_bytes ?? 4 * MIB,
    logLevel: settings.log_level ?? 'info',
    devMode,
    tokenTtlSeconds: settings.token_ttl_seconds ?? 24 * 3600,
    bootstrapApiKey: env['ALLSOURCE_BOOTSTRAP_API_KEY'] || undefined,
    bootstrapTenantId: settings.bootstrap_tenant_id ?? 'default',
    adminPasswordFile: join(configDir, 'initial-admin-password'),
    uiDir: uiDir === undefined ? undefined : isAbsolute(uiDir) ? uiDir : resolve(cwd, uiDir),
    audit: {
      enabled: settings.audit !== 'off',
      checkpointEvery: settings.audit_checkpoint_records ?? 1000,
      checkpointIntervalMs: (settings.audit_checkpoint_seconds ?? 60) * 1000,
      checkpointFile: join(dataDir, 'audit-checkpoints.ndjson'),
    },
    protection: {
      enabled: settings.protection !== 'off',
      allowedHosts: settings.allowed_hosts ?? [],
      trustedProxies: settings.trusted_proxies ?? [],
      corsOrigins: settings.cors_origins ?? [],
      defaultIpAction: settings.default_ip_action ?? 'allow',
      rateLimitTier: settings.rate_limit_tier,
      tls:
        settings.tls_cert_file !== undefined && settings.tls_key_file !== undefined
          ? { certFile: resolve(cwd, settings.tls_cert_file), keyFile: resolve(cwd, settings.tls_key_file) }
          : undefined,
    },
    anomaly: {
      enabled: settings.anomaly_detection !== 'off',
      enforcement: [true, 'true', '1'].includes(settings.anomaly_enforcement ?? false),
      threshold: settings.anomaly_threshold ?? 0.7,
      blockMinutes: settings.anomaly_block_minutes ?? 15,
    },
  };
}
