/**
 * What a channel type gives the notifier: how it sends one notification and
 * what the receiver said (the API's test send answers it). Failures are
 * classified for the delivery core (destination.ts), never thrown.
 */
import type { SendOutcome } from '../../delivery/destination.js';
import { postHttp } from '../../delivery/http-transport.js';
import type { ChannelState } from '../channel-state.js';
import type { Notification } from '../notification-text.js';

export interface ChannelReply {
  outcome: SendOutcome;
  /** The receiver's answer in a line: `HTTP 202: {"status":"success"}`, `250 Accepted`. */
  said: string;
}

export interface SenderContext {
  channelId: string;
  /** Settings and the secret, checked (channel-settings.ts). */
  settings: Record<string, unknown>;
  /** Series a notification names; the rest are counted. */
  listed: number;
  timeoutMs: number;
  /** What the channel remembers between sends (Alertmanager, PagerDuty). */
  state: ChannelState<object>;
  nowMs(): number;
}

export interface ChannelSender {
  send(n: Notification, signal: AbortSignal): Promise<ChannelReply>;
  close?(): Promise<void>;
}

export type SenderFactory = (context: SenderContext) => ChannelSender;

const SAID_CHARS = 300;

/** One JSON POST (a Buffer is sent as it is); the reply has the receiver's status and body start. */
export async function postJson(
  url: string,
  body: unknown,
  context: Pick<SenderContext, 'timeoutMs'>,
  signal: AbortSignal,
  headers: Record<string, string> = {},
): Promise<ChannelReply> {
  let said = '';
  const outcome = await postHttp(
    {
      url,
      headers: { 'Content-Type': 'application/json', ...headers },
      body: Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)),
    },
    context.timeoutMs,
    signal,
    undefined,
    (status, text) => {
      said = `HTTP ${status}${text ? `: ${text.replace(/\s+/g, ' ').trim().slice(0, SAID_CHARS)}` : ''}`;
    },
  );
  return { outcome, said: said || (outcome.ok ? 'accepted' : outcome.message) };
}
