/**
 * The contract between main, preload and page. Pure (no Electron import) so main, the preload
 * and tests share it. The page gets read-only facts and no functions: it talks to the server
 * over HTTP like any other client, so it needs nothing more from the shell.
 */
export interface AllSourceBridge {
  /** The desktop app's version. */
  readonly version: string;
  /** Node's platform name: 'darwin', 'linux', 'win32'. */
  readonly platform: string;
}

/** Main passes the version through webPreferences.additionalArguments, which land in the preload's argv. */
export const VERSION_ARGUMENT = '--allsource-version=';

export function versionArgument(version: string): string {
  return `${VERSION_ARGUMENT}${version}`;
}

export function createBridge(argv: readonly string[], platform: string): AllSourceBridge {
  const arg = argv.find((value) => value.startsWith(VERSION_ARGUMENT));
  const version = arg?.slice(VERSION_ARGUMENT.length) ?? '';
  return Object.freeze({ version: /^[0-9A-Za-z.+-]{1,64}$/.test(version) ? version : 'unknown', platform });
}
