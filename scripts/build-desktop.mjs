// `npm run build:desktop`: builds the Electron app into out/ with electron-vite.
//
// electron is an optional dependency: npm drops it on machines where its binary cannot be
// downloaded, and the headless product (server + admin UI) must still build there. So a missing
// electron package skips this step with one line, instead of failing `npm run build`.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

function resolvePackage(name) {
  try {
    return require.resolve(`${name}/package.json`);
  } catch {
    return undefined;
  }
}

if (!resolvePackage('electron')) {
  console.log(
    'build:desktop skipped: the optional "electron" package is not installed (npm drops it when its binary ' +
      'download fails). To build the desktop app, reinstall with network access, or run ' +
      '"ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm install" to get the package without its binary.',
  );
  process.exit(0);
}

const manifest = resolvePackage('electron-vite');
if (!manifest) {
  console.error('build:desktop: electron-vite is not installed; run "npm install".');
  process.exit(1);
}
const { bin } = JSON.parse(readFileSync(manifest, 'utf8'));
const cli = join(dirname(manifest), typeof bin === 'string' ? bin : bin['electron-vite']);
const result = spawnSync(process.execPath, [cli, 'build', ...process.argv.slice(2)], { stdio: 'inherit' });
if (result.error) {
  console.error(`build:desktop: could not run electron-vite: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
