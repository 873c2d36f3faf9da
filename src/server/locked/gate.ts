import { setTimeout as sleep } from 'node:timers/promises';
import { WrongPassphraseError } from '../kms/index.js';
import { UnlockRateLimitedError } from './errors.js';

export interface UnlockGateOptions {
  /** Delay after the first wrong passphrase; each further one doubles it. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Attempts allowed to wait in line; more are refused with 429. */
  maxWaiting?: number;
}

/**
 * Runs unlock attempts one at a time, and after each wrong passphrase makes the next attempt wait
 * twice as long as the last (250 ms, 500 ms, … up to 4 s). One at a time also bounds memory: each
 * attempt is an argon2 run with 64 MiB. In-process and per server; a restart resets it, which is
 * fine because a restart costs the attacker far more than the delay.
 */
export class UnlockGate {
  private chain: Promise<unknown> = Promise.resolve();
  private waiting = 0;
  private delayMs = 0;
  private readonly base: number;
  private readonly max: number;
  private readonly maxWaiting: number;

  constructor(options: UnlockGateOptions = {}) {
    this.base = options.baseDelayMs ?? 250;
    this.max = options.maxDelayMs ?? 4000;
    this.maxWaiting = options.maxWaiting ?? 8;
  }

  attempt<T>(run: () => Promise<T>): Promise<T> {
    if (this.waiting >= this.maxWaiting) {
      return Promise.reject(
        new UnlockRateLimitedError('too many unlock attempts are waiting: try again in a few seconds'),
      );
    }
    this.waiting += 1;
    const result = this.chain.then(async () => {
      try {
        if (this.delayMs > 0) await sleep(this.delayMs);
        const value = await run();
        this.delayMs = 0;
        return value;
      } catch (error) {
        if (error instanceof WrongPassphraseError)
          this.delayMs = Math.min(Math.max(this.delayMs * 2, this.base), this.max);
        throw error;
      } finally {
        this.waiting -= 1;
      }
    });
    this.chain = result.catch(() => undefined);
    return result;
  }
}
