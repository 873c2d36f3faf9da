/**
 * Orders token issue times against password changes to the millisecond, so that "tokens issued
 * before the change are refused" holds exactly, even within one second (where `iat` cannot tell)
 * and even within one millisecond under a pinned test clock.
 *
 * The rule: a token is valid only when its issue time >= the user's password_changed_at.
 * - A token is issued at max(now, password_changed_at), so a login right after a change is valid.
 * - A change is stamped after every token issued so far by this process (and after the previous
 *   change), so every older token falls before it. Tokens of earlier processes were issued before
 *   this one started, so `now` is already past them.
 */
export interface TokenClock {
  issueAt(passwordChangedAt: number): number;
  changeAt(previousChangedAt: number): number;
}

export function createTokenClock(now: () => number): TokenClock {
  let lastIssued = 0;
  return {
    issueAt(passwordChangedAt) {
      const at = Math.max(now(), passwordChangedAt);
      lastIssued = Math.max(lastIssued, at);
      return at;
    },
    changeAt: (previousChangedAt) => Math.max(now(), lastIssued + 1, previousChangedAt + 1),
  };
}
