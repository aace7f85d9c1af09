/**
 * Builds the notifications output from the store, its config section and
 * the data dir: the channels (loaded from the store) and one delivery per
 * channel, opened so what was queued before a restart is sent.
 */
import type { Registry } from 'prom-client';
import type { SqlRunner } from '../../store/live-store.js';
import { NotificationChannelStore } from '../../store/notification-channel-store.js';
import { NotificationChannels } from './notification-channels.js';
import { createNotificationMetrics } from './notification-metrics.js';
import { ChannelNotifier, type NotificationsConfig } from './notifier.js';

export async function openNotifier(deps: {
  sql: SqlRunner;
  config: NotificationsConfig;
  dataDir: string;
  registry: Registry;
  log: { info(m: string): void; warn(m: string): void; error(m: string): void };
}): Promise<ChannelNotifier> {
  const channels = await NotificationChannels.load(new NotificationChannelStore(deps.sql));
  const notifier = new ChannelNotifier(channels, {
    config: deps.config,
    dataDir: deps.dataDir,
    metrics: createNotificationMetrics(deps.registry),
    log: deps.log,
  });
  try {
    await notifier.start();
  } catch (err) {
    await notifier.close();
    throw err;
  }
  return notifier;
}
