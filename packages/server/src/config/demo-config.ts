/** Settings of the demo page (`/demo/`): a local test video with the collector attached. */
import { bool, section } from './config-keys.js';

export const DemoConfigSchema = section({
  enabled: bool(
    true,
    'Serve /demo/: a test video (made with ffmpeg on first visit) playing with the collector, sending to this server',
  ),
});
