export { bruteForceScore, createBruteForceDetector } from './brute-force.js';
export { createExfiltrationDetector, exfiltrationScore, rowsRead } from './exfiltration.js';
export type { ReadBaseline } from './exfiltration.js';
export { createPrivilegeEscalationDetector } from './privilege-escalation.js';
export { combine, createUnusualAccessDetector, hourShare } from './unusual-access.js';
export type { AccessBaseline } from './unusual-access.js';
export { createVelocityDetector, velocityScore } from './velocity.js';
