import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { DomainError } from '../errors/index.js';
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

// One schema serves the config file and the environment, so both are checked the same way.
const settingsSchema = z
  .object({
    host: z.string().min(1),
    port: z.coerce.number().int().min(0).max(65535),
    data_dir: z.string().min(1),
    key_file: z.string().min(1),
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
  })
  .partial()
  .strict();

type Settings = z.infer<typeof settingsSchema>;

const envNames: Record<keyof Settings, string> = {
  host: 'ALLSOURCE_HOST',
  port: 'ALLSOURCE_PORT',
  data_dir: 'ALLSOURCE_DATA_DIR',
  key_file: 'ALLSOURCE_KEY_FILE',
  durability: 'ALLSOURCE_DURABILITY',
  max_body_bytes: 'ALLSOURCE_MAX_BODY_BYTES',
  sse_heartbeat_seconds: 'ALLSOURCE_SSE_HEARTBEAT_SECONDS',
  ws_max_buffered_bytes: 'ALLSOURCE_WS_MAX_BUFFERED_BYTES',
  log_level: 'ALLSOURCE_LOG_LEVEL',
  dev_mode: 'ALLSOURCE_DEV_MODE',
  token_ttl_seconds: 'ALLSOURCE_TOKEN_TTL_SECONDS',
  bootstrap_tenant_id: 'ALLSOURCE_BOOTSTRAP_TENANT_ID',
  ui_dir: 'ALLSOURCE_UI_DIR',
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
  const relativeToData = keyFile.startsWith(dataDir.endsWith('/') ? dataDir : `${dataDir}/`);
  if (relativeToData || keyFile === dataDir) {
    throw new ConfigError(
      `the master key file ${keyFile} must not be inside the data directory ${dataDir}: a copy of the data would carry its key`,
    );
  }
  const uiDir = settings.ui_dir ?? options.defaultUiDir;

  return {
    host,
    port: settings.port ?? 8080,
    dataDir,
    configDir,
    keyFile,
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
  };
}
