/**
 * The monitoring stream's destinations by config `type`: the stage looks a
 * sink up here. A new sink is one module of the same shape, listed here
 * (and its config schema in config/monitoring-config.ts).
 */
import type { SinkConfig } from '../../../config/monitoring-config.js';
import type { DestinationModule } from '../../delivery/destination.js';
import { fileSink } from './file.js';
import { httpSink } from './http.js';
import { kinesisSink } from './kinesis.js';
import { natsSink } from './nats.js';

export const SINKS: { [T in SinkConfig['type']]: DestinationModule<Extract<SinkConfig, { type: T }>> } = {
  kinesis: kinesisSink,
  nats: natsSink,
  http: httpSink,
  file: fileSink,
};

export function sinkModule(config: SinkConfig): DestinationModule<SinkConfig> {
  return SINKS[config.type] as DestinationModule<SinkConfig>;
}
