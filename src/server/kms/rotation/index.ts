export { RotationFailedError, RotationUnsupportedError } from './errors.js';
export { ROTATION_STEPS, rotateMasterKey } from './rotate.js';
export type { RotateOptions, RotationReport, RotationStep } from './rotate.js';
export { obtainMasterKey, removeRotationLeftovers, rotationFiles, settleRotation } from './settle.js';
export type { SettleOutcome } from './settle.js';
export type { CopyProgress } from './copy.js';
