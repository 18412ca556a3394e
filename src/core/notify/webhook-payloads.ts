/**
 * The two bodies a notify-url receives. The generic event is a documented, stable contract
 * (docs/notifications.md): every key is always present (null when unknown) so receivers can
 * map it without guessing, and new keys may be added but none renamed. The Slack message is for
 * people: a one-line verdict that reads well in a phone notification, then the numbers.
 */
import { DBDRILL_VERSION } from '../version.js';
import type { Outcome } from './outcome.js';

export const NOTIFY_EVENT_SCHEMA_VERSION = 1;

/** Context every message needs besides the outcome; all strings already redacted. */
export interface MessageContext {
  at: Date;
  runUrl?: string;
  host: string;
}

export interface NotifyEvent {
  schemaVersion: number;
  /** `dbdrill.<command>.<status>`, e.g. `dbdrill.backup.failed`. */
  event: string;
  command: string;
  name: string;
  ok: boolean;
  status: string;
  phase: string | null;
  reason: string | null;
  bundle: string | null;
  rtoSeconds: number | null;
  rpoSeconds: number | null;
  sizeBytes: number | null;
  durationSeconds: number | null;
  rows: number | null;
  runUrl: string | null;
  host: string;
  dbdrillVersion: string;
  /** ISO 8601 UTC, when the run finished. */
  at: string;
}

/** Reasons can be whole tracebacks; a chat message or JSON event carries the first few KB. */
const MAX_REASON_CHARS = 4000;

export function notifyEvent(outcome: Outcome, ctx: MessageContext): NotifyEvent {
  return {
    schemaVersion: NOTIFY_EVENT_SCHEMA_VERSION,
    event: `dbdrill.${outcome.command}.${outcome.status}`,
    command: outcome.command,
    name: outcome.name,
    ok: outcome.ok,
    status: outcome.status,
    phase: outcome.phase ?? null,
    reason: outcome.reason ? truncate(outcome.reason, MAX_REASON_CHARS) : null,
    bundle: outcome.bundle ?? null,
    rtoSeconds: outcome.rtoSeconds ?? null,
    rpoSeconds: outcome.rpoSeconds ?? null,
    sizeBytes: outcome.sizeBytes ?? null,
    durationSeconds: outcome.durationSeconds ?? null,
    rows: outcome.rows ?? null,
    runUrl: ctx.runUrl ?? null,
    host: ctx.host,
    dbdrillVersion: DBDRILL_VERSION,
    at: ctx.at.toISOString(),
  };
}

const VERB: Record<Outcome['command'], string> = {
  backup: 'backup',
  verify: 'verify',
  drill: 'restore drill',
};

/** The one-line verdict shared by Slack messages and ping bodies. */
export function headline(outcome: Outcome): string {
  const what = `dbdrill ${VERB[outcome.command]} of "${outcome.name}"`;
  if (outcome.ok) return `${what} passed`;
  const where = outcome.phase ? ` in phase ${outcome.phase}` : '';
  return `${what} ${outcome.status === 'cancelled' ? 'was cancelled' : 'FAILED'}${where}`;
}

/** The numbers worth reading, as `label: value` pairs, in a fixed order. */
export function facts(outcome: Outcome): [string, string][] {
  const out: [string, string][] = [];
  if (outcome.bundle) out.push(['Bundle', outcome.bundle]);
  if (outcome.rtoSeconds !== undefined) out.push(['RTO', formatSeconds(outcome.rtoSeconds)]);
  if (outcome.rpoSeconds !== undefined) out.push(['RPO', formatSeconds(outcome.rpoSeconds)]);
  if (outcome.sizeBytes !== undefined) out.push(['Size', formatBytes(outcome.sizeBytes)]);
  if (outcome.rows !== undefined) out.push(['Rows', String(outcome.rows)]);
  if (outcome.durationSeconds !== undefined) out.push(['Duration', formatSeconds(outcome.durationSeconds)]);
  return out;
}

const SLACK_SECTION_MAX = 3000;

/** Slack incoming-webhook JSON: `text` (the notification and the fallback) plus Block Kit blocks. */
export function slackMessage(outcome: Outcome, ctx: MessageContext): Record<string, unknown> {
  const icon = outcome.ok ? ':white_check_mark:' : outcome.status === 'cancelled' ? ':warning:' : ':x:';
  const title = `${icon} ${slackEscape(headline(outcome))}`;
  const head = [`*${title}*`, ...facts(outcome).map(([k, v]) => `*${k}:* ${slackEscape(v)}`)];
  // A section's text is limited to 3000 characters; the reason gets what the head leaves.
  const room = Math.max(200, SLACK_SECTION_MAX - head.join('\n').length - 10);
  const reason = outcome.reason
    ? truncate(slackEscape(outcome.reason).replace(/```/g, "'''"), room)
    : undefined;
  const lines = [...head, ...(reason ? ['```' + reason + '```'] : [])];
  const context = [`host ${slackEscape(ctx.host)}`, `dbdrill ${DBDRILL_VERSION}`, ctx.at.toISOString()];
  if (ctx.runUrl) context.unshift(`<${ctx.runUrl}|View the run>`);
  const text = [title, outcome.reason ? slackEscape(firstLine(outcome.reason)) : '', ctx.runUrl ?? '']
    .filter(Boolean)
    .join('\n');
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] },
    ],
  };
}

/** Slack's mrkdwn treats &, < and > as markup; everything else is literal. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0].slice(0, 300);
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

export function formatSeconds(s: number): string {
  if (s < 120) return `${Math.round(s * 10) / 10} s`;
  if (s < 7200) return `${Math.round(s / 6) / 10} min`;
  return `${Math.round(s / 360) / 10} h`;
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}
