/**
 * The answer of `/healthz` (public): the server serialises with this schema
 * and the dashboard reads which optional listeners are off from it.
 */
import { type Static, Type } from '@sinclair/typebox';

/** `GET /healthz` */
export const HealthzResponse = Type.Object({
  status: Type.Literal('ok'),
  uptime_s: Type.Integer(),
  bus: Type.Object({
    end_position: Type.Integer(),
    backlog_bytes: Type.Integer(),
    segments: Type.Integer(),
  }),
  listeners_off: Type.Array(Type.String(), {
    description:
      'Optional listeners of this node (RTMP, the Mux-protocol intake) that could not start: one line each naming the listener, its port, why, and the config key to change or turn it off',
  }),
});
export type HealthzResponse = Static<typeof HealthzResponse>;
