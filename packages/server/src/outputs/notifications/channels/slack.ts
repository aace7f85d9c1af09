/**
 * Slack incoming webhook: Block Kit blocks (typed with @slack/types) saying
 * what happened (the rule and its summary lines), where (environment and
 * series), each series' value against the threshold, and buttons to the
 * incident, the series in Monitor and the runbook; `text` is the fallback
 * Slack shows in notifications. Slack takes at most 50 blocks, so a
 * notification combining many rules lists the first few and counts the rest.
 */
import type { ActionsBlock, Button, ContextBlock, HeaderBlock, KnownBlock, SectionBlock } from '@slack/types';
import type { NotificationBatch } from '../incident-notice.js';
import {
  batchTitle,
  type Notification,
  notificationText,
  notificationTitle,
  seriesLines,
} from '../notification-text.js';
import { type ChannelSender, postJson, type SenderContext } from './channel-sender.js';

/** Rules listed per message: 4 blocks each, under Slack's 50. */
const MAX_BATCHES = 10;
/** Slack's limits: header text 150 characters, section text 3000. */
const cut = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

function button(text: string, url: string, style?: Button['style']): Button {
  return { type: 'button', text: { type: 'plain_text', text }, url, ...(style ? { style } : {}) };
}

function batchBlocks(b: NotificationBatch, listed: number): KnownBlock[] {
  const what: SectionBlock = {
    type: 'section',
    text: {
      type: 'mrkdwn',
      text: cut(`*${batchTitle(b, listed)}*${b.rule.description ? `\n${b.rule.description}` : ''}`, 3000),
    },
  };
  const series: SectionBlock = {
    type: 'section',
    text: {
      type: 'mrkdwn',
      text: cut(
        seriesLines(b.notices, listed)
          .map((l) => `• ${l}`)
          .join('\n'),
        3000,
      ),
    },
  };
  const where: ContextBlock = {
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `severity *${b.rule.severity}* · environment *${b.envName}*` }],
  };
  const first = b.notices[0];
  const buttons: Button[] = [];
  if (first)
    buttons.push(
      button('Incident', first.links.incident, 'primary'),
      button('Series in Monitor', first.links.series),
    );
  if (b.rule.runbookUrl) buttons.push(button('Runbook', b.rule.runbookUrl));
  const links: ActionsBlock = { type: 'actions', elements: buttons };
  return buttons.length ? [what, series, where, links] : [what, series, where];
}

/** The message: a header, each rule's blocks (at most MAX_BATCHES), and `text` as the fallback. */
export function slackMessage(n: Notification, listed: number): { text: string; blocks: KnownBlock[] } {
  const title = notificationTitle(n, listed);
  const header: HeaderBlock = { type: 'header', text: { type: 'plain_text', text: cut(title, 150) } };
  if (n.test)
    return {
      text: title,
      blocks: [header, { type: 'section', text: { type: 'mrkdwn', text: notificationText(n, listed) } }],
    };
  const blocks: KnownBlock[] = [
    header,
    ...n.batches.slice(0, MAX_BATCHES).flatMap((b) => batchBlocks(b, listed)),
  ];
  const more = n.batches.length - MAX_BATCHES;
  if (more > 0)
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `… and ${more} more rules` }] });
  return { text: title, blocks };
}

export function slackSender(c: SenderContext): ChannelSender {
  const url = c.settings['webhook_url'] as string;
  return { send: (n, signal) => postJson(url, slackMessage(n, c.listed), c, signal) };
}
