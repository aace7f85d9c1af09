/**
 * The intakes of an ingest node: the native beacon route, CMCD reports and
 * the Mux-protocol listener, with the recorder of refused payloads they share.
 * Closed first of all (after the HTTP app), so nothing is accepted while the
 * pipeline drains.
 */

import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/config-schema.js';
import { listenerOff } from '../../http/listen-problem.js';
import { cmcdRoute } from '../../intake/cmcd/cmcd-route.js';
import { RejectedRecorder } from '../../intake/kit/rejected-recorder.js';
import { ViewAdmission } from '../../intake/kit/view-admission.js';
import { type MuxIntake, startMuxIntake } from '../../intake/mux/mux-intake.js';
import { beaconRoute } from '../../intake/native/beacon-route.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Feature, Log } from '../feature.js';
import type { Platform } from '../platform.js';

export interface RunningIntake extends Feature {
  /** The Mux-protocol intake's TLS listener, when enabled. */
  muxIntake: MuxIntake | undefined;
  /** Why the enabled Mux-protocol listener could not start. */
  muxOff: string | undefined;
}

export async function intakeFeature(
  config: Config,
  app: FastifyInstance,
  platform: Platform,
  deps: {
    metrics: Metrics;
    log: Log;
    /** Embedded server: whether this node's pipeline holds a view in memory (view-admission.ts). */
    inPipeline?: ((envId: string, viewId: string) => boolean) | undefined;
  },
): Promise<RunningIntake> {
  const { metrics, log } = deps;
  const rejected = new RejectedRecorder(
    platform.store,
    metrics,
    config.intake.rejected.maxStoredBodyBytes,
    config.intake.rejected.maxPerEnvironmentPerHour,
    (err) => {
      metrics.errors.labels('rejected').inc();
      log.error(`could not record rejected payloads: ${(err as Error).message}`);
    },
  );
  const admission = new ViewAdmission(config.intake.views, config.views, metrics, deps.inPipeline);
  const intakeDeps = { config, bus: platform.bus, registry: platform.registry, metrics, rejected, admission };
  // Each intake in its own context: it parses its own bodies.
  await app.register(async (scope) => beaconRoute(scope, intakeDeps));
  if (config.compat.cmcd.enabled) await app.register(async (scope) => cmcdRoute(scope, config, intakeDeps));
  let muxIntake: MuxIntake | undefined;
  let muxOff: string | undefined;
  try {
    // The drop-in Mux-protocol intake: its own TLS listener (docs/compatibility.md).
    if (config.compat.mux.enabled) muxIntake = await startMuxIntake(config, intakeDeps, log);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') {
      await rejected.close();
      throw err;
    }
    // An optional listener: the rest of the server runs; the log, /healthz and the dashboard say why it is off.
    const host = config.compat.mux.host || config.host;
    muxOff = listenerOff('Mux-protocol intake', err, host, config.compat.mux.port, ['compat', 'mux']);
    log.error(muxOff);
  }
  return {
    name: 'intake',
    muxIntake,
    muxOff,
    close: async () => {
      await muxIntake?.close();
      await rejected.close();
    },
  };
}
