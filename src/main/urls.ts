/** URL and origin rules for the desktop shell. Pure: no Electron import, so plain Node tests it. */

/** True for an http URL on an address only this machine can reach, without credentials in it. */
export function isLoopbackHttpUrl(value: string): boolean {
  const url = parse(value);
  if (!url || url.protocol !== 'http:' || url.username !== '' || url.password !== '') return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Same scheme, host and port. Unparseable URLs and opaque origins match nothing. */
export function isSameOrigin(a: string, b: string): boolean {
  const left = parse(a);
  const right = parse(b);
  return left !== undefined && right !== undefined && left.origin !== 'null' && left.origin === right.origin;
}

export type NavigationDecision = 'allow' | 'open-external' | 'deny';

/**
 * What the window does with a navigation or a new-window request: pages of the app's own origin
 * load in it; web links open in the user's browser; anything else (file:, javascript:, custom
 * schemes) is refused.
 */
export function navigationDecision(target: string, appOrigin: string | undefined): NavigationDecision {
  if (appOrigin !== undefined && isSameOrigin(target, appOrigin)) return 'allow';
  const url = parse(target);
  if (url && (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '') {
    return 'open-external';
  }
  return 'deny';
}

export interface PageUrlInput {
  /** Where the utility process's server listens; it serves the built UI at `/`. */
  serverUrl: string;
  /** electron-vite's dev server (ELECTRON_RENDERER_URL), set by `electron-vite dev` only. */
  devRendererUrl: string | undefined;
  packaged: boolean;
}

/** The URL the window loads: the dev server while developing, otherwise the embedded server. */
export function pageUrl({ serverUrl, devRendererUrl, packaged }: PageUrlInput): string {
  if (!packaged && devRendererUrl && isLoopbackHttpUrl(devRendererUrl)) return devRendererUrl;
  return serverUrl;
}

function parse(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
