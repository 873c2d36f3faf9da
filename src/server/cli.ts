import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { BUILT_UI_DIR, createApp, VERSION, type App } from './app.js';
import {
  canPrompt,
  keysChangePassphrase,
  keysProtect,
  keysRotateMaster,
  keysStatus,
  newPassphrase,
  promptHidden,
  takeSecrets,
  type Secrets,
} from './commands/index.js';
import { loadConfig, type Config } from './config/index.js';
import { databaseExists } from './db/index.js';
import { DomainError } from './errors/index.js';
import { generateApiKey, type BootstrapResult } from './identity/index.js';
import { selectProtector, WrongPassphraseError } from './kms/index.js';

const USAGE = `Usage: allsource serve [options]
       allsource new-api-key
       allsource keys status|protect|change-passphrase|rotate-master [--with passphrase|file] [options]

serve                 runs the AllSource event store and its admin UI
new-api-key           prints a new random API key, e.g. for ALLSOURCE_BOOTSTRAP_API_KEY
keys status           which protector holds the master key, whether the database exists (no secrets)
keys protect --with passphrase|file
                      moves the master key into a passphrase file (or back into a key file);
                      the old file is overwritten and removed; on a first run, makes a new key
keys change-passphrase
                      rewraps the master key under a new passphrase; the database is not touched
keys rotate-master    makes a new master key and re-keys the database (the server must be stopped);
                      shows progress, safe to interrupt; sign-in tokens become invalid

Options:
  --host HOST        address to listen on (default 127.0.0.1; loopback only)
  --port PORT        port to listen on (default 8080; 0 picks a free one)
  --data-dir DIR     where the encrypted database lives
                     (default: ALLSOURCE_DATA_DIR, else ~/.local/share/allsource or the platform's equivalent)
  --config FILE      JSON config file (see README, "Configuration")
  --with KIND        for "keys protect": passphrase or file
  -h, --help         show this help
  -v, --version      show the version

Secrets never go on the command line. Passphrases are asked on the terminal (not echoed) or
taken from ALLSOURCE_PASSPHRASE (the current one) and ALLSOURCE_NEW_PASSPHRASE (a new one).
With a passphrase and no terminal, "serve" starts locked: POST /api/v1/unlock {"passphrase": ...}.`;

function fail(message: string): number {
  process.stderr.write(`allsource: ${message}\n`);
  return 1;
}

const UNLOCK_ATTEMPTS = 3;

/** Runs the `allsource` command; resolves with the exit code once the server has stopped. */
export async function main(argv: string[]): Promise<number> {
  // Taken out of the environment first thing, whatever the command: see takeSecrets.
  const secrets = takeSecrets();
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        config: { type: 'string' },
        with: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (command === 'new-api-key' && rest.length === 0) {
    process.stdout.write(`${generateApiKey(randomBytes)}\n`);
    return 0;
  }
  const keysCommand = command === 'keys' && rest.length === 1 ? rest[0] : undefined;
  const knownKeys = ['status', 'protect', 'change-passphrase', 'rotate-master'];
  if (!(command === 'serve' && rest.length === 0) && !(keysCommand && knownKeys.includes(keysCommand))) {
    return fail(
      command === undefined
        ? `a command is needed\n\n${USAGE}`
        : `unknown command "${positionals.join(' ')}"\n\n${USAGE}`,
    );
  }
  if (values.with !== undefined && keysCommand !== 'protect') return fail('--with is only for "keys protect"');

  let config: Config;
  try {
    config = loadConfig({
      flags: {
        ...(values.host === undefined ? {} : { host: values.host }),
        ...(values.port === undefined ? {} : { port: values.port }),
        ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
        ...(values.config === undefined ? {} : { config: values.config }),
      },
      defaultUiDir: BUILT_UI_DIR,
    });
  } catch (error) {
    return fail(describe(error));
  }
  if (keysCommand !== undefined) return runKeys(keysCommand, config, secrets, values.with);
  return serve(config, secrets);
}

function describe(error: unknown): string {
  if (error instanceof DomainError) return error.message;
  if (process.env['ALLSOURCE_DEBUG']) console.error(error);
  return `failed: ${(error as Error).message}`;
}

async function runKeys(command: string, config: Config, secrets: Secrets, target: string | undefined): Promise<number> {
  const context = {
    config,
    env: process.env,
    secrets,
    out: (line: string) => process.stdout.write(`${line}\n`),
    err: (line: string) => process.stderr.write(`${line}\n`),
  };
  try {
    switch (command) {
      case 'status':
        return keysStatus(context);
      case 'protect':
        return await keysProtect(context, target);
      case 'change-passphrase':
        return await keysChangePassphrase(context);
      default:
        return await keysRotateMaster(context);
    }
  } catch (error) {
    return fail(describe(error));
  }
}

function printBootstrap(bootstrap: BootstrapResult): void {
  if (bootstrap.createdAdmin) {
    const { username, password, file } = bootstrap.createdAdmin;
    // Printed once, on the first start only; the same lines are in a 0600 file for later.
    process.stdout.write(
      `\nFirst start: created the admin account.\n  username: ${username}\n  password: ${password}\n` +
        `This is shown once; it is also in ${file} (readable only by you). Change it with PUT /api/v1/auth/password.\n\n`,
    );
  }
  if (bootstrap.bootstrapKey?.status === 'revoked') {
    process.stderr.write('allsource: warning: ALLSOURCE_BOOTSTRAP_API_KEY was revoked and stays revoked\n');
  }
}

/**
 * With a passphrase protector and no ALLSOURCE_PASSPHRASE: on a terminal, ask (a new one, twice,
 * on the very first run; else up to three tries); without a terminal, start locked.
 */
async function askPassphrase(app: App | undefined): Promise<string | undefined> {
  if (app === undefined) return newPassphrase(undefined);
  for (let attempt = 1; attempt <= UNLOCK_ATTEMPTS; attempt++) {
    const passphrase = await promptHidden('Passphrase: ');
    try {
      await app.unlock(passphrase);
      return undefined;
    } catch (error) {
      if (!(error instanceof WrongPassphraseError) || attempt === UNLOCK_ATTEMPTS) throw error;
      process.stderr.write(`allsource: ${error.message}; try again\n`);
    }
  }
  return undefined;
}

async function serve(config: Config, secrets: Secrets): Promise<number> {
  let app: App | undefined;
  try {
    const protector = selectProtector(process.env, config);
    let passphrase = secrets.passphrase;
    const interactive = protector.needsSecret === true && passphrase === undefined && canPrompt();
    // First run on a terminal: the passphrase file is made with a new passphrase asked twice.
    if (interactive && !protector.exists?.() && !databaseExists(config.dataDir))
      passphrase = await askPassphrase(undefined);
    app = createApp(config, {
      protector,
      ...(passphrase === undefined ? {} : { passphrase }),
      onUnlocked: (bootstrap) => {
        process.stdout.write('allsource: unlocked\n');
        printBootstrap(bootstrap);
      },
    });
    if (interactive && app.locked && passphrase === undefined) await askPassphrase(app);
    const { url, bootstrap, locked } = await app.listen();
    process.stdout.write(
      `AllSource ${VERSION} listening on ${url} (data: ${config.dataDir}, durability: ${config.durability})\n`,
    );
    if (locked) {
      process.stdout.write(
        `allsource: LOCKED: the master key is protected by a passphrase; unlock with POST ${url}/api/v1/unlock {"passphrase": "..."}\n`,
      );
    }
    if (config.devMode) {
      process.stdout.write('allsource: DEV MODE: requests without credentials act as an admin of dev-tenant\n');
    }
    printBootstrap(bootstrap);
  } catch (error) {
    await app?.close();
    if (error instanceof DomainError) return fail(error.message);
    if (process.env['ALLSOURCE_DEBUG']) console.error(error);
    return fail(`could not start: ${(error as Error).message}`);
  }

  const running = app;
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      process.stdout.write(`allsource: ${signal} received, finishing requests in flight and closing the database\n`);
      running.close().then(
        () => resolve(0),
        (error: unknown) => resolve(fail(`error while stopping: ${(error as Error).message}`)),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
