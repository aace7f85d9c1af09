export type { Config } from './config/config-schema.js';
export { ConfigError, loadConfig } from './config/load-config.js';
export { assemble, assemble as startServer, type RunningServer } from './main/assemble.js';
export { buildApp } from './main/build-app.js';
