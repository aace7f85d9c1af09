export type { Config } from './config/config-schema.js';
export { ConfigError, loadConfig } from './config/load-config.js';
export { buildApp } from './main/build-app.js';
export { type RunningServer, startServer } from './main/start-embedded.js';
