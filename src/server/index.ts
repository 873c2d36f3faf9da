/** The embeddable server: what Electron's main process and library users import. */
export { createApp, StartupError, VERSION } from './app.js';
export type { App, AppOptions } from './app.js';
export { loadConfig, ConfigError } from './config/index.js';
export type { Config } from './config/index.js';
export { main } from './cli.js';
export { DomainError } from './errors/index.js';
