#!/usr/bin/env node
// `npm start [-- args]`: builds what is out of date, then runs `allsource serve [args]`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Newest modification time of any file below `dir` (0 when it does not exist). */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return latest;
}

function mtime(file) {
  return existsSync(file) ? statSync(file).mtimeMs : 0;
}

function buildIfStale(name, sources, output, script) {
  const inputs = Math.max(
    ...sources.map((source) => (source.endsWith('/') ? newest(join(root, source)) : mtime(join(root, source)))),
  );
  if (mtime(join(root, output)) >= inputs) return;
  process.stderr.write(`allsource: building the ${name} (npm run ${script})...\n`);
  const result = spawnSync('npm', ['run', '--silent', script], {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (result.status !== 0) {
    process.stderr.write(`allsource: building the ${name} failed; see the output above\n`);
    process.exit(result.status ?? 1);
  }
}

buildIfStale(
  'server',
  ['src/server/', 'package.json', 'tsconfig.server.json', 'tsconfig.base.json'],
  'dist/server/cli.js',
  'build:server',
);
buildIfStale('admin UI', ['src/renderer/', 'vite.renderer.config.ts'], 'dist/renderer/index.html', 'build:renderer');

const { main } = await import(pathToFileURL(join(root, 'dist/server/cli.js')).href);
process.exit(await main(['serve', ...process.argv.slice(2)]));
