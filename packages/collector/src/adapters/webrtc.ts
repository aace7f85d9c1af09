import type { Adapter } from '../core/adapter.js';
export const webrtc: Adapter = { name: 'webrtc', test: () => false, attach: () => () => {} };
