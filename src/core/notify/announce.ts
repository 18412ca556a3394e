/**
 * The one entry the use-case adapters call: `announceStart` when a run begins, `announce` with its
 * Outcome when it ends. Everything here is fail-soft by construction: each channel (ping, webhooks,
 * metrics file, Pushgateway) runs on its own, a channel that fails becomes a logged warning naming
 * the endpoint with its secrets masked, and neither function ever throws, so the caller can await
 * it in a `finally` without a monitoring outage changing the run's verdict or exit code.
 */
import { hostname } from 'node:os';

import type { Clock } from '../clock.js';
import { messageOf } from '../errors.js';
import { redactUrlPasswords, type Logger } from '../logger.js';
import { ping } from './dead-man-ping.js';
import { maskUrl } from './endpoint.js';
import { deliver, realSleep, type Delivery, type DeliveryDeps, type FetchPort } from './http-delivery.js';
import { nodeTextFileIo, writeMetricsFile, type TextFileIo } from './metrics-file.js';
import { registerNotifySecrets, type NotifyOn, type NotifySettings } from './settings.js';
import { errorOutcome, runUrlFrom, type NotifyCommand, type Outcome } from './outcome.js';
import { pushMetrics } from './pushgateway.js';
import { facts, headline, notifyEvent, slackMessage, type MessageContext } from './webhook-payloads.js';

export interface NotifyDeps {
  logger: Logger;
  clock: Clock;
  /** The process environment, for the run link (GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID). */
  env: Readonly<Record<string, string | undefined>>;
  /** Default: the global fetch. */
  fetch?: FetchPort;
  /** Default: the local file system. */
  files?: TextFileIo;
  /**
   * Masks secrets in text leaving the process (reasons, bundle URIs). Default: the logger's own
   * redactor when it has one (so every registered secret is covered), else URL passwords only.
   */
  redact?: (text: string) => string;
  /** Waits between retries. Default: a real timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Named in messages. Default: this machine's hostname. */
  host?: string;
}

export type Channel = 'ping' | 'notify' | 'metrics-file' | 'pushgateway';

export interface ChannelResult {
  channel: Channel;
  ok: boolean;
  /** The endpoint or file, secrets masked. */
  target: string;
  /** Set when ok is false; the same text was logged as a warning. */
  warning?: string;
}

export interface AnnounceReport {
  results: ChannelResult[];
  /** The warnings logged, for a job summary. */
  warnings: string[];
}

/** Sends the `/start` ping, when a ping-url is set. Never throws. */
export async function announceStart(
  deps: NotifyDeps,
  settings: NotifySettings,
  command: NotifyCommand,
  name: string,
): Promise<AnnounceReport> {
  return neverThrows(deps, () =>
    collect(deps, [
      safely('ping', settings.pingUrl, async () => {
        registerNotifySecrets(deps.logger, settings);
        const body = `dbdrill ${command} of "${name}" started on ${deps.host ?? hostname()}`;
        return fromDelivery(
          'ping',
          await ping(deliveryDeps(deps), settings.pingUrl!, 'start', body, settings.policy),
        );
      }),
    ]),
  );
}

/** Tells every configured channel how the run ended. Never throws. */
export async function announce(
  deps: NotifyDeps,
  settings: NotifySettings,
  outcome: Outcome,
): Promise<AnnounceReport> {
  return neverThrows(deps, () => announceOutcome(deps, settings, outcome));
}

async function announceOutcome(
  deps: NotifyDeps,
  settings: NotifySettings,
  outcome: Outcome,
): Promise<AnnounceReport> {
  try {
    registerNotifySecrets(deps.logger, settings);
  } catch {
    /* a logger that cannot register secrets still gets masked endpoints from this module */
  }
  const redact = redactorOf(deps);
  const at = outcome.finishedAt ?? deps.clock.now();
  const clean: Outcome = {
    ...outcome,
    reason: outcome.reason === undefined ? undefined : redact(outcome.reason),
    phase: outcome.phase === undefined ? undefined : redact(outcome.phase),
    bundle: outcome.bundle === undefined ? undefined : redact(outcome.bundle),
  };
  const runUrl = runUrlFrom(deps.env);
  const ctx: MessageContext = { at, runUrl, host: deps.host ?? hostname() };
  const http = deliveryDeps(deps);
  const labels = { job: `${settings.metricsJob}_${outcome.command}`, name: outcome.name };

  const tasks: Promise<ChannelResult | undefined>[] = [
    safely('ping', settings.pingUrl, async () =>
      fromDelivery(
        'ping',
        await ping(
          http,
          settings.pingUrl!,
          outcome.ok ? 'success' : 'fail',
          pingBody(clean, ctx),
          settings.policy,
        ),
      ),
    ),
    ...(shouldNotify(settings.notifyOn, outcome) ? settings.notifyUrls : []).map((target) =>
      safely('notify', target.url, async () => {
        const payload = target.format === 'slack' ? slackMessage(clean, ctx) : notifyEvent(clean, ctx);
        const delivery = await deliver(
          http,
          {
            method: 'POST',
            url: target.url,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(payload),
          },
          settings.policy,
        );
        return fromDelivery('notify', delivery);
      }),
    ),
    safely('metrics-file', settings.metricsFile, async () => {
      await writeMetricsFile(deps.files ?? nodeTextFileIo, settings.metricsFile!, outcome, labels, at);
      return { channel: 'metrics-file', ok: true, target: settings.metricsFile! };
    }),
    safely('pushgateway', settings.pushgatewayUrl, async () =>
      fromDelivery(
        'pushgateway',
        await pushMetrics(http, { url: settings.pushgatewayUrl!, ...labels }, outcome, at, settings.policy),
      ),
    ),
  ];
  return collect(deps, tasks);
}

/**
 * The whole protocol around one use case, for adapters that want it in one call: the start ping,
 * the run, then `announce` with the result's outcome or, when the run throws, with the error's
 * (and the error is rethrown untouched, so exit codes and messages stay the use case's own).
 * `outcomeOf` turns a result that is not ok into a failed outcome (verify returns ok: false
 * rather than throwing).
 */
export async function runAnnounced<T>(
  deps: NotifyDeps,
  settings: NotifySettings,
  command: NotifyCommand,
  name: string,
  run: () => Promise<T>,
  outcomeOf: (result: T) => Outcome,
): Promise<T> {
  await announceStart(deps, settings, command, name);
  const started = deps.clock.monotonicMs();
  let result: T;
  try {
    result = await run();
  } catch (error) {
    const durationSeconds = Math.round(deps.clock.monotonicMs() - started) / 1000;
    await announce(deps, settings, errorOutcome(command, name, error, { durationSeconds }));
    throw error;
  }
  let outcome: Outcome;
  try {
    outcome = outcomeOf(result);
    // verify reports no duration of its own; the wall time around it is the honest figure
    outcome.durationSeconds ??= Math.round(deps.clock.monotonicMs() - started) / 1000;
  } catch (e) {
    deps.logger.warning(`could not describe the ${command} result for notifications: ${messageOf(e)}`);
    return result;
  }
  await announce(deps, settings, outcome);
  return result;
}

export function shouldNotify(on: NotifyOn, outcome: Outcome): boolean {
  return on === 'always' || (on === 'failure' && !outcome.ok);
}

/** healthchecks.io shows the body in its event log: the verdict, the link, the numbers, then the reason. */
function pingBody(outcome: Outcome, ctx: MessageContext): string {
  const lines = [headline(outcome)];
  if (ctx.runUrl) lines.push(ctx.runUrl);
  for (const [k, v] of facts(outcome)) lines.push(`${k}: ${v}`);
  lines.push(`host ${ctx.host}, ${ctx.at.toISOString()}`);
  if (outcome.reason) lines.push('', outcome.reason);
  return lines.join('\n');
}

/** Runs one channel when it is configured; turns anything it throws into a failed result. */
function safely(
  channel: Channel,
  target: string | undefined,
  run: () => Promise<ChannelResult>,
): Promise<ChannelResult | undefined> {
  if (!target) return Promise.resolve(undefined);
  const shown = channel === 'metrics-file' ? target : maskUrl(target);
  return run().catch((e: unknown): ChannelResult => ({
    channel,
    ok: false,
    target: shown,
    warning: `${shown}: ${messageOf(e)}`,
  }));
}

function fromDelivery(channel: Channel, d: Delivery): ChannelResult {
  return { channel, ok: d.ok, target: d.endpoint, warning: d.ok ? undefined : d.error };
}

const WHAT: Record<Channel, string> = {
  ping: 'dead-man ping failed',
  notify: 'notification not delivered',
  'metrics-file': 'metrics file not written',
  pushgateway: 'metrics not pushed to the Pushgateway',
};

async function collect(
  deps: NotifyDeps,
  tasks: Promise<ChannelResult | undefined>[],
): Promise<AnnounceReport> {
  const results = (await Promise.all(tasks)).filter((r): r is ChannelResult => r !== undefined);
  const warnings: string[] = [];
  for (const r of results) {
    if (r.ok) {
      deps.logger.info(
        r.channel === 'metrics-file' ? `metrics written to ${r.target}` : `${r.channel}: sent to ${r.target}`,
      );
      continue;
    }
    const text = `${WHAT[r.channel]} (the run's result is unchanged): ${r.warning ?? r.target}`;
    r.warning = text;
    warnings.push(text);
    deps.logger.warning(text);
  }
  return { results, warnings };
}

/** The last line of the fail-soft promise: even a bug in this module ends as a warning. */
async function neverThrows(deps: NotifyDeps, run: () => Promise<AnnounceReport>): Promise<AnnounceReport> {
  try {
    return await run();
  } catch (e) {
    const text = `notifications skipped (the run's result is unchanged): ${messageOf(e)}`;
    try {
      deps.logger.warning(text);
    } catch {
      /* nothing left to tell */
    }
    return { results: [], warnings: [text] };
  }
}

function redactorOf(deps: NotifyDeps): (text: string) => string {
  if (deps.redact) return deps.redact;
  const own = (deps.logger as { redactor?: { redact?: (t: string) => string } }).redactor;
  if (own && typeof own.redact === 'function') return (t) => own.redact!(t);
  return redactUrlPasswords;
}

function deliveryDeps(deps: NotifyDeps): DeliveryDeps {
  return {
    fetch: deps.fetch ?? ((url, init) => fetch(url, init)),
    sleep: deps.sleep ?? realSleep,
    redact: redactorOf(deps),
  };
}
