/**
 * The notification channels: in memory for the notifier's hot path and
 * written through to the store (notification-channel-store.ts). Create and
 * update check the settings for the type (channel-settings.ts); the secret
 * is kept apart (the API never answers it).
 */
import { randomUUID } from 'node:crypto';
import type {
  NotificationChannelRecord,
  NotificationChannelStore,
} from '../../store/notification-channel-store.js';
import { type ChannelType, parseChannelSettings } from './channel-settings.js';

export interface ChannelInput {
  name: string;
  type: ChannelType;
  settings: Record<string, unknown>;
}

export class NotificationChannels {
  private readonly byId = new Map<string, NotificationChannelRecord>();
  /** Told after a channel changed or went, so its delivery is rebuilt or closed. */
  onChange: (id: string, removed: boolean) => Promise<void> = async () => {};

  private constructor(private readonly store: NotificationChannelStore) {}

  static async load(store: NotificationChannelStore): Promise<NotificationChannels> {
    const channels = new NotificationChannels(store);
    for (const c of await store.list()) channels.byId.set(c.id, c);
    return channels;
  }

  list(): NotificationChannelRecord[] {
    return [...this.byId.values()];
  }

  get(id: string): NotificationChannelRecord | undefined {
    return this.byId.get(id);
  }

  async create(envId: string, input: ChannelInput): Promise<NotificationChannelRecord> {
    const { settings, secrets } = parseChannelSettings(input.type, input.settings);
    const now = Date.now();
    const record: NotificationChannelRecord = {
      id: randomUUID(),
      envId,
      name: input.name,
      type: input.type,
      settings,
      secrets,
      createdAtMs: now,
      updatedAtMs: now,
    };
    await this.store.put(record);
    this.byId.set(record.id, record);
    return record;
  }

  /** Given settings replace those keys only; a secret not given again is kept. */
  async update(
    id: string,
    change: { name?: string | undefined; settings?: Record<string, unknown> | undefined },
  ): Promise<NotificationChannelRecord> {
    const old = this.byId.get(id);
    if (!old) throw new Error(`no notification channel ${id}`);
    const { settings, secrets } = parseChannelSettings(old.type as ChannelType, change.settings ?? {}, {
      ...old.settings,
      ...old.secrets,
    });
    const record: NotificationChannelRecord = {
      ...old,
      name: change.name ?? old.name,
      settings,
      secrets,
      // ClickHouse keeps the newest version by this: it must grow even within one millisecond.
      updatedAtMs: Math.max(Date.now(), old.updatedAtMs + 1),
    };
    await this.store.put(record);
    this.byId.set(id, record);
    await this.onChange(id, false);
    return record;
  }

  async delete(id: string): Promise<void> {
    await this.store.delete(id);
    this.byId.delete(id);
    await this.onChange(id, true);
  }
}
