/** What an access token may do. */
export const PERMISSIONS = ['data:read', 'system', 'video', 'alerts'] as const;
export type Permission = (typeof PERMISSIONS)[number];
