import type { Adapter } from '../core/adapter.js';
export const videojs: Adapter = { name: 'videojs', test: () => false, attach: () => () => {} };
