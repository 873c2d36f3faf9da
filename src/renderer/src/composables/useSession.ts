import { computed, readonly, shallowRef } from 'vue';
import { ApiError, describeError, fetchJson, type LoginResult, type User } from '../api';

/**
 * The one session of this page. The token lives in this module's memory only: never in
 * localStorage, sessionStorage, a cookie or a URL, so closing or reloading the page signs out.
 */
const token = shallowRef<string>();
const user = shallowRef<User>();
/** Why the sign-in form is showing again, if it is: a session that ended, a sign-out. */
const notice = shallowRef<string>();

export const SESSION_ENDED = 'Your session ended; sign in again.';

function clear(message?: string): void {
  token.value = undefined;
  user.value = undefined;
  notice.value = message;
}

async function signIn(username: string, password: string): Promise<void> {
  const result = await fetchJson<LoginResult>('/api/v1/auth/login', {
    method: 'POST',
    body: { username, password },
  });
  token.value = result.token;
  user.value = result.user;
  notice.value = undefined;
}

/** Forgets the token at once, then asks the server to revoke it. */
async function signOut(): Promise<void> {
  const ended = token.value;
  clear('You have signed out.');
  if (!ended) return;
  try {
    await fetchJson('/api/v1/auth/logout', { method: 'POST', token: ended });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return; // already over
    notice.value = `You have signed out here, but the server was not told: ${describeError(error)}`;
  }
}

/**
 * GETs `path` with the session's token. A 401 ends the session (unless a newer sign-in has
 * replaced the token meanwhile) and the error still reaches the caller.
 */
async function fetchWithSession<T>(path: string, signal?: AbortSignal): Promise<T> {
  const used = token.value;
  if (!used) throw new ApiError('unauthorized', 'not signed in', 401);
  try {
    return await fetchJson<T>(path, { token: used, signal });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401 && token.value === used) clear(SESSION_ENDED);
    throw error;
  }
}

export function useSession() {
  return {
    user: readonly(user),
    signedIn: computed(() => user.value !== undefined),
    notice: readonly(notice),
    signIn,
    signOut,
    fetchWithSession,
  };
}
