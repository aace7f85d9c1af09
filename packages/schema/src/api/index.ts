/** The public APIs' answers as TypeBox schemas: the server's response schemas, the dashboard's types. */
export * from './alerts-api.js';
export * from './data-api.js';
export * from './envelope.js';
export * from './live-api.js';
export * from './monitoring-api.js';
export * from './notification-api.js';
export * from './ops-api.js';
export * from './system-api.js';
