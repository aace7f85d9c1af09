/**
 * Settings of the drop-in intakes (`compat` in the config file): the Mux
 * beacon protocol on its own TLS listener, and CMCD reports on
 * `POST /v1/cmcd/{env_key}`.
 */
import { Type } from '@sinclair/typebox';

const envKeyMap = (what: string) =>
  Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.String({ minLength: 1, maxLength: 64 }), {
    default: {},
    description: `${what} → openqoe environment key (config file only). A key that is itself an openqoe environment key needs no entry`,
  });

export const CompatConfigSchema = Type.Object(
  {
    mux: Type.Object(
      {
        enabled: Type.Boolean({
          default: false,
          description:
            'Serve the Mux Data beacon protocol (POST / and /android) on its own TLS listener (off by default: it opens a second port)',
        }),
        host: Type.String({
          default: '',
          description: 'Address of the TLS listener ("" for the server’s own `host`)',
        }),
        port: Type.Integer({
          minimum: 0,
          maximum: 65535,
          default: 8443,
          description: 'TLS port of the Mux-protocol intake (0 picks a free one; the log says which)',
        }),
        certPath: Type.String({
          default: '',
          description:
            'PEM certificate (chain) of the listener; "" generates a self-signed pair into {dataDir}/compat-tls (development only)',
        }),
        keyPath: Type.String({ default: '', description: 'PEM private key of the listener' }),
        envKeys: envKeyMap('Mux `env_key` sent by the SDK'),
        maxEventsPerBeacon: Type.Integer({
          minimum: 1,
          default: 1000,
          description: 'Most events one POST may carry (mux-embed sends at most 300)',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    cmcd: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description:
            'Accept CMCD reports on POST /v1/cmcd/{env_key} (event mode body, CMCD= query, CMCD-* headers)',
        }),
        envKeys: envKeyMap('`{env_key}` in the CMCD target URL'),
        maxReportsPerBody: Type.Integer({
          minimum: 1,
          default: 1000,
          description: 'Most reports (lines) one POST may carry',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);
