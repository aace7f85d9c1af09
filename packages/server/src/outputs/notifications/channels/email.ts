/**
 * Email over SMTP (nodemailer): one message per notification, the one-line
 * title as subject and the plain-text listing as body, with the
 * notification's id as Message-ID (a redelivery is recognisably the same
 * mail). SMTP's permanent refusals (5xx) are refused for good (dead letter);
 * anything else (connection, timeout, 4xx) is retried.
 */
import nodemailer from 'nodemailer';
import { type Notification, notificationText, notificationTitle } from '../notification-text.js';
import type { ChannelSender, SenderContext } from './channel-sender.js';

export interface EmailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
  messageId: string;
}

export function emailMessage(
  n: Notification,
  settings: Record<string, unknown>,
  listed: number,
): EmailMessage {
  return {
    from: settings['from'] as string,
    to: settings['to'] as string[],
    subject: notificationTitle(n, listed).slice(0, 200),
    text: notificationText(n, listed),
    messageId: `<${n.id}@openqoe>`,
  };
}

export function emailSender(c: SenderContext): ChannelSender {
  const s = c.settings;
  const secure = s['smtp_secure'] === true;
  const user = s['smtp_user'] as string | undefined;
  const transport = nodemailer.createTransport({
    host: s['smtp_host'] as string,
    port: (s['smtp_port'] as number | undefined) ?? (secure ? 465 : 587),
    secure,
    ...(user !== undefined ? { auth: { user, pass: (s['smtp_password'] as string | undefined) ?? '' } } : {}),
    connectionTimeout: c.timeoutMs,
    greetingTimeout: c.timeoutMs,
    socketTimeout: c.timeoutMs,
  });
  return {
    async send(n) {
      try {
        const info = await transport.sendMail(emailMessage(n, s, c.listed));
        return { outcome: { ok: true }, said: String(info.response) };
      } catch (err) {
        const e = err as Error & { responseCode?: number; code?: string; response?: string };
        const said = e.response ?? `${e.code ?? e.name}: ${e.message}`;
        if (e.responseCode !== undefined && e.responseCode >= 500)
          return {
            outcome: { ok: false, kind: 'reject', reason: String(e.responseCode), message: said },
            said,
          };
        const reason = e.responseCode !== undefined ? String(e.responseCode) : 'network';
        return { outcome: { ok: false, kind: 'retry', reason, message: said }, said };
      }
    },
    close: async () => transport.close(),
  };
}
