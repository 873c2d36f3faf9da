export { createBoundedCache } from './bounded-cache.js';
export type { BoundedCache } from './bounded-cache.js';
