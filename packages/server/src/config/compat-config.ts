/**
 * Settings of the drop-in intakes (`compat` in the config file): the Mux
 * beacon protocol on its own TLS listener, and CMCD reports on
 * `POST /v1/cmcd/{env_key}`.
 */
import { Type } from '@sinclair/typebox';
import { bool, int, section, str } from './config-keys.js';

const envKeyMap = (what: string) =>
  Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.String({ minLength: 1, maxLength: 64 }), {
    default: {},
    description: `${what} → openqoe environment key (config file only). A key that is itself an openqoe environment key needs no entry`,
  });

export const CompatConfigSchema = section({
  mux: section({
    enabled: bool(
      false,
      'Serve the Mux Data beacon protocol (POST / and /android) on its own TLS listener (off by default: it opens a second port)',
    ),
    host: str('', 'Address of the TLS listener ("" for the server’s own `host`)'),
    port: int(
      { minimum: 0, maximum: 65535, default: 8443 },
      'TLS port of the Mux-protocol intake (0 picks a free one; the log says which)',
    ),
    certPath: str(
      '',
      'PEM certificate (chain) of the listener; "" generates a self-signed pair into {dataDir}/compat-tls (development only)',
    ),
    keyPath: str('', 'PEM private key of the listener'),
    envKeys: envKeyMap('Mux `env_key` sent by the SDK'),
    maxEventsPerBeacon: int(
      { minimum: 1, default: 1000 },
      'Most events one POST may carry (mux-embed sends at most 300)',
    ),
  }),
  cmcd: section({
    enabled: bool(
      true,
      'Accept CMCD reports on POST /v1/cmcd/{env_key} (event mode body, CMCD= query, CMCD-* headers)',
    ),
    envKeys: envKeyMap('`{env_key}` in the CMCD target URL'),
    maxReportsPerBody: int({ minimum: 1, default: 1000 }, 'Most reports (lines) one POST may carry'),
  }),
});
