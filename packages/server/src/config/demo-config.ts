/** Settings of the demo page (`/demo/`): a local test video with the collector attached. */
import { Type } from '@sinclair/typebox';

export const DemoConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description:
        'Serve /demo/: a test video (made with ffmpeg on first visit) playing with the collector, sending to this server',
    }),
  },
  { additionalProperties: false, default: {} },
);
