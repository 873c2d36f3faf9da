export { AlreadyUnlockedError, LockedError, UnlockRateLimitedError } from './errors.js';
export {
  createLockedFront,
  isUnlockRequest,
  parseUnlockBody,
  refuseUpgradeWhileLocked,
  UNLOCK_BODY_LIMIT,
  UNLOCK_PATH,
} from './front.js';
export type { LockedFrontOptions } from './front.js';
export { UnlockGate } from './gate.js';
export type { UnlockGateOptions } from './gate.js';
