/**
 * Real receivers of alert notifications that tests start themselves: an SMTP
 * server (the `smtp-server` package) keeping every mail, and Debian's
 * Prometheus Alertmanager with its webhook receiver pointed at a URL the test
 * records. Both are stopped by the `stop()` they return.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { freePort } from './cluster.js';
import { waitFor } from './patience.js';
import { spawnTracked, stopChild } from './processes.js';

export interface Mail {
  from: string;
  to: string[];
  raw: string;
}

export interface SmtpReceiver {
  port: number;
  mails: Mail[];
  stop(): Promise<void>;
}

/** An SMTP server on 127.0.0.1 (no TLS) accepting the login `user` / `password` only. */
export async function startSmtpReceiver(user: string, password: string): Promise<SmtpReceiver> {
  const mails: Mail[] = [];
  const smtp = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(auth, _session, cb) {
      if (auth.username === user && auth.password === password) cb(null, { user });
      else cb(new Error('bad credentials'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((a) => a.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  return {
    port: (smtp.server.address() as { port: number }).port,
    mails,
    stop: () => new Promise<void>((r) => smtp.close(() => r())),
  };
}

/** Headers and body of a received mail, quoted-printable undone. */
export function readMail(raw: string): { subject: string; body: string; messageId: string } {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'mi').exec(unfolded)?.[1] ?? '';
  let body = rest.join('\n\n');
  if (/quoted-printable/i.test(header('Content-Transfer-Encoding')))
    body = body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
  return { subject: header('Subject'), body, messageId: header('Message-ID') };
}

/** An alert as Alertmanager's API holds it. */
export interface HeldAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  endsAt: string;
  startsAt: string;
  generatorURL: string;
  status: { state: string };
}

export interface Alertmanager {
  url: string;
  /** GET /api/v2/alerts: the alerts it holds now. */
  held(): Promise<HeldAlert[]>;
  stop(): Promise<void>;
}

/**
 * prometheus-alertmanager on a free port, its data under `dir`, routing every
 * alert (grouped by alertname, a second's waits) to the webhook `hookUrl`,
 * resolved ones too. `resolveTimeout` is its global resolve_timeout.
 */
export async function startAlertmanager(
  dir: string,
  hookUrl: string,
  resolveTimeout = '3s',
): Promise<Alertmanager> {
  const port = await freePort();
  mkdirSync(join(dir, 'data'), { recursive: true });
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(
    config,
    [
      'global:',
      `  resolve_timeout: ${resolveTimeout}`,
      'route:',
      '  receiver: hook',
      "  group_by: ['alertname']",
      '  group_wait: 1s',
      '  group_interval: 1s',
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: hook',
      '    webhook_configs:',
      `      - url: ${hookUrl}`,
      '        send_resolved: true',
      '',
    ].join('\n'),
  );
  execFileSync('prometheus-alertmanager', ['--version'], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const am: ChildProcess = spawnTracked(
    'prometheus-alertmanager',
    [
      `--config.file=${config}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
    'alertmanager',
  );
  await waitFor(
    async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok === true,
    'Alertmanager',
  );
  return {
    url,
    held: async () => (await (await fetch(`${url}/api/v2/alerts`)).json()) as HeldAlert[],
    stop: async () => {
      await stopChild(am, 'SIGTERM');
    },
  };
}

/** The login the SMTP receivers of the alerting tests accept. */
export const SMTP_LOGIN = { user: 'alerts', password: 'smtp-secret' } as const;

/**
 * Channel bodies (type and settings of POST /system/v1/notification-channels)
 * for the receivers a test runs: a webhook, Slack, and PagerDuty's events URL
 * under `hooksUrl` (`/webhook`, `/slack`, `/pagerduty`), and email to `smtp`.
 */
export function receiverChannels(
  hooksUrl: string,
  smtp: SmtpReceiver,
): { type: string; settings: Record<string, unknown> }[] {
  return [
    { type: 'webhook', settings: { url: `${hooksUrl}/webhook`, signing_secret: 'whsec' } },
    { type: 'slack', settings: { webhook_url: `${hooksUrl}/slack` } },
    {
      type: 'pagerduty',
      settings: { routing_key: 'R0UT1NGKEY0000000000000000000000', events_url: `${hooksUrl}/pagerduty` },
    },
    {
      type: 'email',
      settings: {
        smtp_host: '127.0.0.1',
        smtp_port: smtp.port,
        smtp_user: SMTP_LOGIN.user,
        smtp_password: SMTP_LOGIN.password,
        from: 'alerts@openqoe.test',
        to: ['oncall@example.com'],
      },
    },
  ];
}

/** How the HTTP receivers answer: PagerDuty's events API its 202, the others 200. */
export const receiverReply = (r: { path: string }) =>
  r.path.startsWith('/pagerduty')
    ? { status: 202, body: '{"status":"success","message":"Event processed"}' }
    : { status: 200, body: 'ok' };
