import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * Only the entry points may import Electron: everything else runs under plain Node in these
 * tests, where the electron package may be missing or have no binary.
 */
const ENTRY_POINTS = new Set(['main/index.ts', 'preload/index.ts']);

describe('electron imports', () => {
  for (const dir of ['main', 'preload']) {
    const files = readdirSync(new URL(`../${dir}/`, import.meta.url)).filter(
      (name) => name.endsWith('.ts') && !ENTRY_POINTS.has(`${dir}/${name}`),
    );
    it.each(files)(`${dir}/%s imports no electron`, (name) => {
      const source = readFileSync(new URL(`../${dir}/${name}`, import.meta.url), 'utf8');
      expect(source).not.toMatch(/from\s+['"]electron(\/[^'"]*)?['"]|require\(\s*['"]electron/);
    });
  }
});
