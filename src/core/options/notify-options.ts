/**
 * The options that make a run heard from (chat notifications, dead-man pings, Prometheus
 * metrics). Parsing checks every URL up front: a typo in a webhook must fail the run at once
 * (exit 2), not be discovered as a warning on the night the backup breaks. Bad values are shown
 * with their secret parts masked, because these URLs are credentials.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { ConfigError } from '../errors.js';
import { looksLikeSlack, maskUrl } from '../notify/endpoint.js';
import type { NotifyFormat, NotifyOn, NotifySettings } from '../notify/settings.js';
import type { Command, OptionSource, OptionSpec } from './spec.js';

const NOTIFY_CMDS: Command[] = ['backup', 'verify', 'drill'];

export const NOTIFY_OPTION_SPECS: OptionSpec[] = [
  {
    name: 'notify-url',
    kind: 'list',
    commands: NOTIFY_CMDS,
    secret: true,
    description:
      'Webhooks to notify, one a line: a Slack incoming webhook (hooks.slack.com, or any URL prefixed slack:) gets a Slack message, any other URL (or one prefixed json:) a JSON event. Failures never fail the run.',
  },
  {
    name: 'notify-on',
    kind: 'string',
    commands: NOTIFY_CMDS,
    choices: ['failure', 'always', 'never'],
    default: 'failure',
    description: 'When notify-url is called: failure (failed or cancelled runs), always, or never.',
  },
  {
    name: 'ping-url',
    kind: 'string',
    commands: NOTIFY_CMDS,
    secret: true,
    description:
      'Dead-man switch in the healthchecks.io convention: <url>/start when the run starts, <url> on success, <url>/fail with the reason on failure.',
  },
  {
    name: 'metrics-file',
    kind: 'string',
    commands: NOTIFY_CMDS,
    description:
      "Prometheus text file to update (node_exporter's textfile collector reads *.prom); replaced atomically, merged with the samples of other names and jobs.",
  },
  {
    name: 'pushgateway-url',
    kind: 'string',
    commands: NOTIFY_CMDS,
    secret: true,
    description:
      'Prometheus Pushgateway base URL (e.g. http://pushgateway:9091); metrics go to the grouping key job/<metrics-job>_<command>/name/<name>.',
  },
  {
    name: 'metrics-job',
    kind: 'string',
    commands: NOTIFY_CMDS,
    default: 'dbdrill',
    description:
      'Prefix of the job label of the metrics; the command is appended (dbdrill_backup, dbdrill_verify, dbdrill_drill), so each job keeps its own series.',
  },
];

/**
 * Reads the notify options. Single values are read through `list()` (last line wins, as for every
 * other option), so a value given twice behaves the same as for the other options.
 */
export function parseNotifySettings(o: OptionSource): NotifySettings {
  const single = (name: string): string | undefined => o.list(name).at(-1);

  const notifyUrls = o.list('notify-url').map((line, i, all) => {
    const where = all.length > 1 ? ` line ${i + 1}` : '';
    const prefixed = /^(slack|json):(?!\/\/)(.*)$/i.exec(line);
    const url = httpUrl(
      prefixed ? prefixed[2].trim() : line,
      `${o.name('notify-url')}${where}`,
      'an http:// or https:// webhook URL, optionally prefixed slack: or json: to choose the message format',
    );
    const format: NotifyFormat = prefixed
      ? (prefixed[1].toLowerCase() as NotifyFormat)
      : looksLikeSlack(url)
        ? 'slack'
        : 'json';
    return { url, format };
  });

  const notifyOn = (single('notify-on') ?? 'failure').toLowerCase();
  if (!['failure', 'always', 'never'].includes(notifyOn)) {
    throw new ConfigError(
      `${o.name('notify-on')} "${single('notify-on')}" is not valid; expected one of: failure, always, never`,
    );
  }

  const pingRaw = single('ping-url');
  const pingUrl = pingRaw
    ? httpUrl(pingRaw, o.name('ping-url'), 'an http:// or https:// ping URL, e.g. https://hc-ping.com/<uuid>')
    : undefined;

  const pushRaw = single('pushgateway-url');
  let pushgatewayUrl: string | undefined;
  if (pushRaw) {
    pushgatewayUrl = httpUrl(
      pushRaw,
      o.name('pushgateway-url'),
      'the http:// or https:// base URL of a Pushgateway',
    );
    const u = new URL(pushgatewayUrl);
    if (/\/metrics(\/|$)/.test(u.pathname) || u.search || u.hash) {
      throw new ConfigError(
        `${o.name('pushgateway-url')} "${maskUrl(pushgatewayUrl)}" should be the Pushgateway's base URL only (e.g. http://pushgateway:9091): dbdrill adds /metrics/job/<job>/name/<name> itself`,
      );
    }
  }

  const fileRaw = single('metrics-file');
  const metricsFile = fileRaw ? resolve(fileRaw) : undefined;
  if (fileRaw && metricsFile) {
    const dir = dirname(metricsFile);
    if (!(existsSync(dir) && statSync(dir).isDirectory())) {
      throw new ConfigError(
        `${o.name('metrics-file')} "${fileRaw}": directory ${dir} does not exist; point it into node_exporter's --collector.textfile.directory`,
      );
    }
    if (existsSync(metricsFile) && statSync(metricsFile).isDirectory()) {
      throw new ConfigError(
        `${o.name('metrics-file')} "${fileRaw}" is a directory; give a file in it, e.g. ${fileRaw.replace(/\/+$/, '')}/dbdrill.prom`,
      );
    }
  }

  const metricsJob = single('metrics-job') ?? 'dbdrill';
  if (!/^[A-Za-z_][A-Za-z0-9_.:-]*$/.test(metricsJob)) {
    throw new ConfigError(
      `${o.name('metrics-job')} "${metricsJob}" is not valid; expected a label such as dbdrill or prod_db (letters, digits, _ . : -, not starting with a digit)`,
    );
  }

  return {
    notifyUrls,
    notifyOn: notifyOn as NotifyOn,
    pingUrl,
    metricsFile,
    pushgatewayUrl,
    metricsJob,
  };
}

function httpUrl(value: string, input: string, expected: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ConfigError(`${input} "${maskUrl(value)}" is not a URL; expected ${expected}`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname) {
    throw new ConfigError(`${input} "${maskUrl(value)}" is not valid; expected ${expected}`);
  }
  return u.href;
}
