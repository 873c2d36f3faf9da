/**
 * CORS from an exact allowlist of origins (scheme, host and port). Never `*` (a credential-bearing
 * API must name who may read it), never `null` (sandboxed iframes and file: pages all share that
 * origin). An origin is compared as the browser sends it, lowercased, without a trailing slash.
 */
export interface CorsPolicy {
  allows(origin: string): boolean;
  /** Headers for a response to `origin`, or none when it is not allowed. */
  responseHeaders(origin: string | undefined): Array<[string, string]>;
  /** Headers for a preflight from an allowed origin. */
  preflightHeaders(): Array<[string, string]>;
}

export interface CorsOptions {
  origins: readonly string[];
  methods: readonly string[];
  headers: readonly string[];
  maxAgeSeconds: number;
}

export const CORS_EXPOSED_HEADERS = [
  'X-Request-ID',
  'Retry-After',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
];

/** Normalises an origin for comparison; undefined for `null`, `*`, and anything not an http(s) origin. */
export function canonicalOrigin(origin: string): string | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username !== '' || url.password !== '' || url.origin === 'null') return undefined;
  // The origin alone: a configured "https://app.example.com/" matches what browsers send.
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') return undefined;
  return url.origin.toLowerCase();
}

export function createCorsPolicy(options: CorsOptions): CorsPolicy {
  const origins = new Set(
    options.origins.map((origin) => canonicalOrigin(origin)).filter((o): o is string => o !== undefined),
  );
  const allows = (origin: string) => {
    const canonical = canonicalOrigin(origin);
    return canonical !== undefined && origins.has(canonical);
  };
  return {
    allows,
    responseHeaders(origin) {
      if (origin === undefined || !allows(origin)) return [['Vary', 'Origin']];
      return [
        ['Access-Control-Allow-Origin', origin],
        ['Vary', 'Origin'],
        ['Access-Control-Expose-Headers', CORS_EXPOSED_HEADERS.join(', ')],
      ];
    },
    preflightHeaders() {
      return [
        ['Access-Control-Allow-Methods', options.methods.join(', ')],
        ['Access-Control-Allow-Headers', options.headers.join(', ')],
        ['Access-Control-Max-Age', String(options.maxAgeSeconds)],
      ];
    },
  };
}
