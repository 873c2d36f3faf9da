#!/usr/bin/env node
// The `allsource` command. It runs the built server; `npm run build` (or `npm start`) builds it.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cli = fileURLToPath(new URL('../dist/server/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('allsource: the server is not built yet: run "npm run build" (or "npm start") first\n');
  process.exit(1);
}
const { main } = await import(pathToFileURL(cli).href);
process.exit(await main(process.argv.slice(2)));
