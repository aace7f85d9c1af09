export * from './api/index.js';
export * from './beacon.js';
export * from './errors.js';
export * from './fixtures.js';
export * as monitoring from './gen/openqoe/monitoring/v1/monitoring_samples_pb.js';
export * from './metrics.js';
export * from './permissions.js';
export * from './validate.js';
