export { createHttpApp } from './app.js';
export type { HttpAppDependencies } from './app.js';
export { attachWebSocket, WEBSOCKET_PATH } from './websocket.js';
export type { WebSocketOptions } from './websocket.js';
export { DEV_PRINCIPAL, principalOf, stillAuthorized } from './auth.js';
export { principalActor } from './audit.js';
