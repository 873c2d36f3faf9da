/**
 * Process entry of the `allsource` command (bin/allsource.mjs runs the built copy of cli.ts the same way).
 * Kept apart from cli.ts so that importing the CLI, e.g. from a bundle, never starts it.
 */
import { main } from './cli.js';

process.exit(await main(process.argv.slice(2)));
