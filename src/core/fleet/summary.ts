/**
 * The fleet summary: one row per member (database, bundle, bundle age, last drill, RTO and RPO
 * against their budgets, status and why), as JSON (the `fleet-json` output, `fleet` in --json),
 * as Markdown (the job summary, `fleet-summary.md`) and as plain text (the CLI).
 */
import { formatDuration } from '../duration.js';
import type { FleetMode } from '../options/index.js';

export const FLEET_SUMMARY_FORMAT = 'dbdrill-fleet-summary';

export type MemberStatus = 'passed' | 'failed' | 'cancelled';

export interface FleetMemberRow {
  database: string;
  /** The member's bundle name (separate) or the joint bundle's name (one-recovery-point). */
  name: string;
  /** one-recovery-point: the member's component in the joint bundle. */
  component?: string;
  /** The bundle's key (file name), when one was written or drilled. */
  bundle?: string;
  /** Backup: seconds since the bundle's end. Drill: its age when the drill started (the RPO measured). */
  bundleAgeSeconds: number | null;
  /** Drill: this drill. Backup: the newest entry of the member's drill history, if any. */
  lastDrill?: { status: MemberStatus; at: string };
  rtoSeconds: number | null;
  rtoBudgetSeconds?: number;
  rpoSeconds: number | null;
  rpoBudgetSeconds?: number;
  /** Of this run's work on the member: its backup, or its drill. */
  status: MemberStatus;
  /** Why the member failed, in one paragraph. */
  reason?: string;
  /** Drill: the member's own report directory. */
  reportDir?: string;
  /** Verify, one-recovery-point: says the verdict is the joint bundle's, shared by every member. */
  note?: string;
}

export interface FleetSummary {
  format: typeof FLEET_SUMMARY_FORMAT;
  formatVersion: 1;
  command: 'backup' | 'drill' | 'verify';
  name: string;
  mode: FleetMode;
  ok: boolean;
  generatedAt: string;
  /** Member databases that failed, in member order. */
  failed: string[];
  members: FleetMemberRow[];
}

export function makeSummary(
  command: FleetSummary['command'],
  name: string,
  mode: FleetMode,
  members: FleetMemberRow[],
  at: Date,
): FleetSummary {
  const failed = members.filter((m) => m.status !== 'passed').map((m) => m.database);
  return {
    format: FLEET_SUMMARY_FORMAT,
    formatVersion: 1,
    command,
    name,
    mode,
    ok: failed.length === 0,
    generatedAt: at.toISOString(),
    failed,
    members,
  };
}

const HEADERS = ['database', 'bundle', 'bundle age', 'last drill', 'RTO / budget', 'RPO / budget', 'status'];
/** Verify measures no RTO and runs no drill: the bundle age against max-age is its RPO column. */
const VERIFY_HEADERS = ['database', 'bundle', 'RPO (age) / max-age', 'status'];

function headers(s: FleetSummary): string[] {
  return s.command === 'verify' ? VERIFY_HEADERS : HEADERS;
}

function cells(m: FleetMemberRow, command: FleetSummary['command']): string[] {
  if (command === 'verify') {
    return [
      m.database,
      m.bundle ?? '—',
      vsBudget(m.rpoSeconds, m.rpoBudgetSeconds),
      m.note ? `${m.status} (${m.note})` : m.status,
    ];
  }
  return [
    m.database,
    m.bundle ?? '—',
    m.bundleAgeSeconds === null ? '—' : formatDuration(m.bundleAgeSeconds),
    m.lastDrill ? `${m.lastDrill.status} ${m.lastDrill.at.replace(/\.\d{3}Z$/, 'Z')}` : 'never',
    vsBudget(m.rtoSeconds, m.rtoBudgetSeconds),
    vsBudget(m.rpoSeconds, m.rpoBudgetSeconds),
    m.status,
  ];
}

/** `12s / 45m ok`, `2h / 1h over`, `12s` without a budget, `—` when not measured. */
export function vsBudget(actual: number | null, budget: number | undefined): string {
  if (actual === null) return budget === undefined ? '—' : `— / ${formatDuration(budget)}`;
  if (budget === undefined) return formatDuration(actual);
  return `${formatDuration(actual)} / ${formatDuration(budget)} ${actual <= budget ? 'ok' : 'over'}`;
}

function title(s: FleetSummary): string {
  const passed = s.members.length - s.failed.length;
  return `fleet ${s.name} (${s.mode}) ${s.command}: ${passed} of ${s.members.length} passed`;
}

export function fleetMarkdown(s: FleetSummary): string {
  const esc = (t: string) => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `### dbdrill ${title(s)}`,
    '',
    `| ${headers(s).join(' | ')} |`,
    `| ${headers(s)
      .map(() => '---')
      .join(' | ')} |`,
    ...s.members.map((m) => `| ${cells(m, s.command).map(esc).join(' | ')} |`),
  ];
  const failures = s.members.filter((m) => m.status !== 'passed');
  if (failures.length) {
    lines.push('', '**Failed:**', '');
    for (const m of failures) lines.push(`- **${esc(m.database)}**: ${esc(m.reason ?? m.status)}`);
  }
  return lines.join('\n') + '\n';
}

/** The same table in aligned plain text, for a terminal. */
export function fleetText(s: FleetSummary): string {
  const rows = [headers(s), ...s.members.map((m) => cells(m, s.command))];
  const widths = headers(s).map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const out = [
    title(s),
    ...rows.map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    ),
  ];
  for (const m of s.members.filter((x) => x.status !== 'passed'))
    out.push(`${m.database} failed: ${m.reason ?? m.status}`);
  return out.join('\n') + '\n';
}

/** The exit-1 message of a fleet run: how many members failed, each with its reason. */
export function failedMembersMessage(s: FleetSummary): string {
  const failed = s.members.filter((m) => m.status !== 'passed');
  return `fleet ${s.command}: ${failed.length} of ${s.members.length} member(s) failed: ${failed
    .map((m) => `${m.database} (${m.reason ?? m.status})`)
    .join('; ')}`;
}
