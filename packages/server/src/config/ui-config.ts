/** Settings of the web dashboard served under /ui/. */
import { bool, section, str } from './config-keys.js';

export const UiConfigSchema = section({
  enabled: bool(true, 'Serve the dashboard under /ui/ (and redirect / to it)'),
  distDir: str(
    '',
    'Folder of the built dashboard; empty: packages/dashboard/dist next to the server (npm run build makes it)',
  ),
});
