/** Settings of the web dashboard served under /ui/. */
import { Type } from '@sinclair/typebox';

export const UiConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Serve the dashboard under /ui/ (and redirect / to it)',
    }),
    distDir: Type.String({
      default: '',
      description:
        'Folder of the built dashboard; empty: packages/dashboard/dist next to the server (npm run build makes it)',
    }),
  },
  { additionalProperties: false, default: {} },
);
