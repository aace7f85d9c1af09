import type { Adapter } from '../core/adapter.js';
export const shaka: Adapter = { name: 'shaka', test: () => false, attach: () => () => {} };
