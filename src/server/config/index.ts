export { ConfigError, isLoopbackHost, loadConfig, MIB } from './config.js';
export type { Config, ConfigFlags, Durability, LoadConfigOptions, LogLevel } from './config.js';
export { platformDirs } from './paths.js';
