/** The channel types, by the `type` a channel is made with: how each sends. */
import type { ChannelType } from '../channel-settings.js';
import { alertmanagerSender } from './alertmanager.js';
import type { SenderFactory } from './channel-sender.js';
import { emailSender } from './email.js';
import { pagerDutySender } from './pagerduty.js';
import { slackSender } from './slack.js';
import { webhookSender } from './webhook.js';

export const SENDERS: Record<ChannelType, SenderFactory> = {
  webhook: webhookSender,
  slack: slackSender,
  pagerduty: pagerDutySender,
  email: emailSender,
  alertmanager: alertmanagerSender,
};
