import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Test support: throwaway SoftHSM2 tokens. Not part of the server's public API. */

const MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];

const NOT_INSTALLED = 'SoftHSM2 is not installed: apt-get install softhsm2';

export const TEST_PIN = '1234';
export const TEST_SO_PIN = '5678';

export interface SoftHsm {
  /** Path of libsofthsm2.so. */
  module: string;
  /** Label of the token created first. */
  tokenLabel: string;
  pin: string;
  /** Temp folder holding softhsm2.conf, the tokens, and room for the tests' own files. */
  dir: string;
  /** Initialises another token in the same token folder. */
  addToken(label: string, pin?: string): void;
  /** Removes the folder and restores SOFTHSM2_CONF. Close every session first. */
  cleanup(): void;
}

/**
 * The SoftHSM2 module on this machine. Throws (never skips) when SoftHSM2 is missing: the HSM suite
 * must fail loudly on a machine that cannot run it.
 */
export function findSoftHsmModule(): string {
  const found = MODULE_CANDIDATES.find((path) => existsSync(path));
  if (found === undefined) throw new Error(`${NOT_INSTALLED} (no libsofthsm2.so in ${MODULE_CANDIDATES.join(', ')})`);
  return found;
}

/**
 * Creates a temp SoftHSM2 token folder with one initialised token and points this process at it
 * (SOFTHSM2_CONF, which SoftHSM2 reads at C_Initialize).
 *
 * @example
 * const hsm = createSoftHsm('test-token');
 * const protector = pkcs11Protector({ module: hsm.module, tokenLabel: hsm.tokenLabel, pin: hsm.pin, … });
 * hsm.cleanup();
 */
export function createSoftHsm(tokenLabel = 'allsource-test'): SoftHsm {
  const module = findSoftHsmModule();
  const dir = mkdtempSync(join(tmpdir(), 'softhsm-'));
  const tokenDir = join(dir, 'tokens');
  mkdirSync(tokenDir, { mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const previous = process.env['SOFTHSM2_CONF'];
  process.env['SOFTHSM2_CONF'] = conf;

  const addToken = (label: string, pin = TEST_PIN) => {
    try {
      execFileSync(
        'softhsm2-util',
        ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', TEST_SO_PIN],
        { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'pipe' },
      );
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new Error(`${NOT_INSTALLED} (no softhsm2-util)`, { cause: error });
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
      throw new Error(`softhsm2-util could not create token ${label}: ${stderr ?? String(error)}`, { cause: error });
    }
  };

  try {
    addToken(tokenLabel);
  } catch (error) {
    restore(previous);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    module,
    tokenLabel,
    pin: TEST_PIN,
    dir,
    addToken,
    cleanup() {
      restore(previous);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function restore(previous: string | undefined): void {
  if (previous === undefined) delete process.env['SOFTHSM2_CONF'];
  else process.env['SOFTHSM2_CONF'] = previous;
}
