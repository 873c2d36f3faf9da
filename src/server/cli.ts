import { parseArgs } from 'node:util';
import { BUILT_UI_DIR, createApp, VERSION, type App } from './app.js';
import { randomBytes } from 'node:crypto';
import { loadConfig } from './config/index.js';
import { generateApiKey } from './identity/index.js';
import { DomainError } from './errors/index.js';

const USAGE = `Usage: allsource serve [options]
       allsource new-api-key

serve        runs the AllSource event store and its admin UI
new-api-key  prints a new random API key, e.g. for ALLSOURCE_BOOTSTRAP_API_KEY

Options:
  --host HOST        address to listen on (default 127.0.0.1; loopback only)
  --port PORT        port to listen on (default 8080; 0 picks a free one)
  --data-dir DIR     where the encrypted database lives
                     (default: ALLSOURCE_DATA_DIR, else ~/.local/share/allsource or the platform's equivalent)
  --config FILE      JSON config file (see README, "Configuration")
  -h, --help         show this help
  -v, --version      show the version`;

function fail(message: string): number {
  process.stderr.write(`allsource: ${message}\n`);
  return 1;
}

/** Runs the `allsource` command; resolves with the exit code once the server has stopped. */
export async function main(argv: string[]): Promise<number> {
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
  if (command !== 'serve' || rest.length > 0) {
    return fail(
      command === undefined
        ? `a command is needed\n\n${USAGE}`
        : `unknown command "${positionals.join(' ')}"\n\n${USAGE}`,
    );
  }

  let app: App | undefined;
  try {
    const config = loadConfig({
      flags: {
        ...(values.host === undefined ? {} : { host: values.host }),
        ...(values.port === undefined ? {} : { port: values.port }),
        ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
        ...(values.config === undefined ? {} : { config: values.config }),
      },
      defaultUiDir: BUILT_UI_DIR,
    });
    app = createApp(config);
    const { url, bootstrap } = await app.listen();
    process.stdout.write(
      `AllSource ${VERSION} listening on ${url} (data: ${config.dataDir}, durability: ${config.durability})\n`,
    );
    if (config.devMode) {
      process.stdout.write('allsource: DEV MODE: requests without credentials act as an admin of dev-tenant\n');
    }
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
