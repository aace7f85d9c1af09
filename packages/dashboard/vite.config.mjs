/**
 * Builds the dashboard into dist/ for the server to serve under /ui/.
 * JSX compiles to Preact's automatic runtime; no framework plugin is needed.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/ui/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: process.env.OPENQOE_DASHBOARD_OUT_DIR || 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev -w @openqoe/dashboard` against a server on :8080.
    proxy: Object.fromEntries(
      ['/data', '/system', '/video', '/demo', '/healthz'].map((p) => [p, 'http://127.0.0.1:8080']),
    ),
  },
});
