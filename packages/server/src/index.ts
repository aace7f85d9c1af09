export { buildApp } from './app.js';
export type { Config } from './config/config-schema.js';
export { ConfigError, loadConfig } from './config/load-config.js';
export { type RunningServer, startServer } from './server.js';
