/** What an access token may do (`alerts`: alert rules, silences, notification channels, acknowledging incidents). */
export const PERMISSIONS = ['data:read', 'system', 'video', 'alerts'] as const;
export type Permission = (typeof PERMISSIONS)[number];
