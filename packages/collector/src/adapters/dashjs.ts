import type { Adapter } from '../core/adapter.js';
export const dashjs: Adapter = { name: 'dash.js', test: () => false, attach: () => () => {} };
