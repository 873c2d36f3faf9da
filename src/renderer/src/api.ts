/**
 * The few server responses this page reads, and one way to fetch them. The UI talks to the
 * HTTP API like any other client, on the origin that served it.
 */

/** `GET /health` (public). Fields beyond these may appear; they are ignored. */
export interface Health {
  status: string;
  service: string;
  version: string;
  dev_mode: boolean;
  locked: boolean;
  uptime_seconds?: number;
  storage: {
    encrypted: boolean;
    engine?: string;
    cipher?: string;
    cipher_compatibility?: number;
    cipher_page_size?: number;
    durability?: string;
  };
}

/** `GET /api/v1/stats` for the caller's tenant. */
export interface Stats {
  total_events: number;
  total_entities: number;
  total_event_types: number;
}

/** A failed request: `code` is the server's stable error code, or one of ours for transport problems. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A signed-in user, as `POST /api/v1/auth/login` and `GET /api/v1/auth/me` describe it. */
export interface User {
  id: string;
  username: string;
  email: string;
  role: string;
  tenant_id: string;
}

/** `POST /api/v1/auth/login`. */
export interface LoginResult {
  token: string;
  user: User;
}

export interface RequestOptions {
  method?: 'GET' | 'POST';
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as `Authorization: Bearer <token>`, never in the URL. */
  token?: string;
  signal?: AbortSignal;
}

const REQUEST_TIMEOUT_MS = 10_000;

/** Requests `path` as JSON. Throws ApiError for network failures, timeouts and error responses. */
export async function fetchJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const { method = 'GET', body, token, signal } = options;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers['authorization'] = `Bearer ${token}`;
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (error) {
    if (timeout.aborted) throw new ApiError('client/timeout', 'the server took too long to answer');
    if (signal?.aborted) throw error;
    throw new ApiError('client/unreachable', 'the server cannot be reached');
  }
  const parsed: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const problem = (parsed ?? {}) as { error?: unknown; message?: unknown };
    throw new ApiError(
      typeof problem.error === 'string' ? problem.error : 'client/http',
      typeof problem.message === 'string' ? problem.message : `HTTP ${response.status}`,
      response.status,
    );
  }
  if (parsed === undefined) throw new ApiError('client/bad_response', 'the server sent something that is not JSON');
  return parsed as T;
}

const explanations: Record<string, string> = {
  'client/unreachable': 'Cannot reach the AllSource server. Is it running?',
  'client/timeout': 'The AllSource server did not answer in time.',
  'client/bad_response': 'The server sent an unexpected response.',
  unauthorized: 'You need to sign in to see this.',
  forbidden: 'Your role does not allow this.',
  tenant_suspended: 'Your tenant is suspended. A platform admin can reactivate it.',
  locked: 'The store is locked. Unlock it to continue.',
  rate_limited: 'Too many requests. Try again in a moment.',
};

/** Words for a person; falls back to the server's own message. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return explanations[error.code] ?? error.message;
  return 'Something went wrong.';
}
