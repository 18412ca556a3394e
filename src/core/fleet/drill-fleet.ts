/**
 * A fleet drill: the members from the store's fleet record (or the names given), then the drill
 * use case once per member, one after another, each with its own report directory and history.
 * A failing member is recorded and the others are still drilled; the fleet fails if any did.
 * Separate fleets drill each member's newest bundle; a one-recovery-point fleet drills the joint
 * bundle once per member, each restoring only its own PostgreSQL component into its own target.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { displayOf, resolveNewest } from '../catalog/index.js';
import type { UseCaseDeps } from '../deps.js';
import { drill, type DrillResult } from '../drill.js';
import { CheckFailed, messageOf, throwIfCancelled } from '../errors.js';
import type { DrillOptions, FleetMode, FleetSelection } from '../options/index.js';
import { readFleetRecord, resolveRecordedMembers, type FleetMemberRecord } from './record.js';
import {
  failedMembersMessage,
  fleetMarkdown,
  makeSummary,
  type FleetMemberRow,
  type FleetSummary,
} from './summary.js';

export const FLEET_SUMMARY_FILES = { json: 'fleet-summary.json', markdown: 'fleet-summary.md' } as const;

export interface FleetDrillMemberResult {
  member: FleetMemberRecord;
  /** The member's drill result, passed or failed; absent when the drill ended before it had one. */
  result?: DrillResult;
  error?: unknown;
}

export interface FleetDrillResult {
  ok: boolean;
  status: 'passed' | 'failed' | 'cancelled';
  name: string;
  mode: FleetMode;
  members: FleetDrillMemberResult[];
  /** The slowest member's RTO and the oldest member's RPO: the fleet is as good as its worst member. */
  rtoSeconds: number | null;
  rpoSeconds: number | null;
  summary: FleetSummary;
  /** Holds fleet-summary.json, fleet-summary.md and one report directory per member. */
  reportDir: string;
}

export async function drillFleet(
  deps: UseCaseDeps,
  options: DrillOptions,
  selection: FleetSelection,
): Promise<FleetDrillResult> {
  const label = deps.label ?? ((n: string) => n);
  const { logger } = deps;
  const name = options.name!;
  const store = deps.openStore(options.store!);
  const record = await readFleetRecord(store, name);
  const { mode, members } = resolveRecordedMembers(name, selection, record, store.displayUri, label, 'drill');
  logger.info(
    `fleet ${name} (${mode}): drilling ${members.length} member(s): ${members.map((m) => m.database).join(', ')}`,
  );
  // One recovery point means one bundle: every member drills the joint bundle that is newest now.
  const pinned = mode === 'one-recovery-point' ? (await resolveNewest(store, name)).key : undefined;
  if (pinned) logger.info(`fleet ${name}: every member drills ${displayOf(store, pinned)}`);
  const done: FleetDrillMemberResult[] = [];
  for (const member of members) {
    throwIfCancelled(deps.signal);
    logger.startGroup(`Fleet member ${member.database}: drill`);
    const memberOptions: DrillOptions = {
      ...options,
      reportDir: join(options.reportDir, member.name),
      ...(mode === 'separate'
        ? { name: member.name }
        : { name, component: member.component, historyName: member.name, bundleKey: pinned }),
    };
    try {
      done.push({ member, result: await drill(deps, memberOptions) });
    } catch (error) {
      if (deps.signal?.aborted) throw error;
      logger.error(`fleet member ${member.database}: ${messageOf(error)}`);
      done.push({ member, result: CheckFailed.resultOf<DrillResult>(error, 'report'), error });
    } finally {
      logger.endGroup();
    }
  }

  const rows = done.map((d) => drillRow(d, options));
  const summary = makeSummary('drill', name, mode, rows, deps.clock.now());
  const worst = (pick: (r: DrillResult) => number | null) => {
    const values = done.map((d) => (d.result ? pick(d.result) : null)).filter((v): v is number => v !== null);
    return values.length ? Math.max(...values) : null;
  };
  const out: FleetDrillResult = {
    ok: summary.ok,
    status: summary.ok ? 'passed' : 'failed',
    name,
    mode,
    members: done,
    rtoSeconds: worst((r) => r.rtoSeconds),
    rpoSeconds: worst((r) => r.rpoSeconds),
    summary,
    reportDir: options.reportDir,
  };
  await mkdir(options.reportDir, { recursive: true });
  const redact = deps.redact ?? ((t: string) => t);
  await writeFile(
    join(options.reportDir, FLEET_SUMMARY_FILES.json),
    redact(JSON.stringify(summary, null, 2)) + '\n',
  );
  await writeFile(join(options.reportDir, FLEET_SUMMARY_FILES.markdown), redact(fleetMarkdown(summary)));
  if (!summary.ok) {
    throw new CheckFailed(failedMembersMessage(summary), out);
  }
  return out;
}

function drillRow(d: FleetDrillMemberResult, options: DrillOptions): FleetMemberRow {
  const r = d.result;
  const report = r?.report;
  const reason =
    d.error === undefined && r?.ok
      ? undefined
      : report?.error
        ? `${report.error.phase}: ${report.error.message}`
        : d.error !== undefined
          ? messageOf(d.error)
          : r?.checks.failures.join('; ');
  const bundle = r?.bundle ?? report?.bundle;
  return {
    database: d.member.database,
    name: d.member.name,
    ...(d.member.component ? { component: d.member.component } : {}),
    ...(bundle ? { bundle: bundle.slice(bundle.lastIndexOf('/') + 1) } : {}),
    bundleAgeSeconds: r?.rpoSeconds ?? null,
    ...(report ? { lastDrill: { status: report.status, at: report.finishedAt } } : {}),
    rtoSeconds: r?.rtoSeconds ?? null,
    ...(options.rtoSeconds !== undefined ? { rtoBudgetSeconds: options.rtoSeconds } : {}),
    rpoSeconds: r?.rpoSeconds ?? null,
    ...(options.rpoSeconds !== undefined ? { rpoBudgetSeconds: options.rpoSeconds } : {}),
    status: r ? r.status : 'failed',
    ...(reason ? { reason } : {}),
    reportDir: r?.reportDir ?? join(options.reportDir, d.member.name),
  };
}
