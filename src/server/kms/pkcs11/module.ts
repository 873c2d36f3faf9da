import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { PKCS11 } from 'pkcs11js';
import { ckrName, Pkcs11Error, toPkcs11Error } from './errors.js';

/** The pkcs11js module object: constants (CKA_*, CKM_*, …) and the PKCS11 class. */
export type Pkcs11Js = typeof import('pkcs11js');

const require = createRequire(import.meta.url);
let pkcs11jsModule: Pkcs11Js | undefined;

/**
 * Loads pkcs11js on first use only, so that a server which never touches a token never loads the
 * native addon. (It is CommonJS with computed exports, hence require rather than a named import.)
 */
export function loadPkcs11Js(): Pkcs11Js {
  if (pkcs11jsModule === undefined) {
    try {
      pkcs11jsModule = require('pkcs11js') as Pkcs11Js;
    } catch {
      throw new Pkcs11Error('module_unavailable', 'the pkcs11js native addon cannot be loaded: run npm install');
    }
  }
  return pkcs11jsModule;
}

/** A loaded and initialised PKCS#11 module, shared by everyone in this process who uses the same library. */
export interface LoadedModule {
  readonly path: string;
  readonly lib: Pkcs11Js;
  readonly pkcs11: PKCS11;
  /** Who is logged in to which slot (hex slot id), kept by Pkcs11Session. */
  readonly logins: Map<string, SlotLogin>;
}

/**
 * PKCS#11 login state belongs to the application and token, not to one session: once a session is
 * logged in, C_Login on any other session answers CKR_USER_ALREADY_LOGGED_IN without checking the
 * PIN. So the sessions remember which PIN logged in (as an HMAC under a per-process random key,
 * never the PIN itself), and a later session must present the same one.
 */
export interface SlotLogin {
  sessions: number;
  pinDigest: Buffer;
}

interface Entry extends LoadedModule {
  users: number;
  /** False when someone else in the process had initialised the library: then they finalize it, not us. */
  ownsInitialize: boolean;
}

// C_Initialize/C_Finalize are per process and per library, not per PKCS11 object: a C_Finalize by one
// user would kill every other user's sessions. So each library is initialised once and finalised
// when its last user releases it.
const loaded = new Map<string, Entry>();

/**
 * Loads and initialises the PKCS#11 library at `path`, or shares the instance already loaded.
 * Every call must be paired with releaseModule().
 *
 * @example
 * const m = acquireModule('/usr/lib/softhsm/libsofthsm2.so');
 * try { m.pkcs11.C_GetSlotList(true); } finally { releaseModule(m); }
 */
export function acquireModule(path: string): LoadedModule {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new Pkcs11Error('module_unavailable', `the PKCS#11 module ${path} does not exist`);
  }
  const existing = loaded.get(real);
  if (existing) {
    existing.users += 1;
    return existing;
  }
  const lib = loadPkcs11Js();
  const pkcs11 = new lib.PKCS11();
  try {
    pkcs11.load(real);
  } catch {
    throw new Pkcs11Error('module_unavailable', `the PKCS#11 module ${path} cannot be loaded`);
  }
  let ownsInitialize = true;
  try {
    pkcs11.C_Initialize();
  } catch (error) {
    if (ckrName(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      closeQuietly(pkcs11);
      throw toPkcs11Error(error, `initialising the module ${path}`);
    }
    ownsInitialize = false;
  }
  const entry: Entry = { path: real, lib, pkcs11, logins: new Map(), users: 1, ownsInitialize };
  loaded.set(real, entry);
  return entry;
}

/** Releases one use; the last release finalises and unloads the library. Safe to call in `finally`. */
export function releaseModule(module: LoadedModule): void {
  const entry = loaded.get(module.path);
  if (entry !== module) return;
  entry.users -= 1;
  if (entry.users > 0) return;
  loaded.delete(entry.path);
  if (entry.ownsInitialize) {
    try {
      entry.pkcs11.C_Finalize();
    } catch {
      // Finalising is cleanup: a failure here must not hide the caller's own result or error.
    }
  }
  closeQuietly(entry.pkcs11);
}

function closeQuietly(pkcs11: PKCS11): void {
  try {
    pkcs11.close();
  } catch {
    // Unloading is cleanup as well.
  }
}
