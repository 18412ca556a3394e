/**
 * A fleet verify: the members from the store's fleet record (or the names given), exactly like a
 * fleet drill, then the verify use case once per member, one after another. A failing member
 * (corrupt, older than max-age) is recorded and the others are still verified; the fleet fails if
 * any did. Separate fleets verify each member's newest bundle; a one-recovery-point fleet verifies
 * the newest joint bundle once, and that one verdict is every member's.
 */
import type { UseCaseDeps } from '../deps.js';
import { decryptHook } from '../encryption.js';
import { CheckFailed, messageOf, throwIfCancelled } from '../errors.js';
import type { FleetMode, FleetSelection, VerifyOptions } from '../options/index.js';
import { verify, type VerifyResult } from '../verify.js';
import { readFleetRecord, resolveRecordedMembers, type FleetMemberRecord } from './record.js';
import { failedMembersMessage, makeSummary, type FleetMemberRow, type FleetSummary } from './summary.js';

/** What a one-recovery-point member row says: its verdict is the joint bundle's. */
export const SHARED_VERDICT_NOTE = "the joint bundle's verdict, shared by every member";

export interface FleetVerifyMemberResult {
  member: FleetMemberRecord;
  /** The member's verify result, passed or failed; absent when verify ended before it had one. */
  result?: VerifyResult;
  error?: unknown;
}

export interface FleetVerifyResult {
  ok: boolean;
  status: 'passed' | 'failed';
  name: string;
  mode: FleetMode;
  members: FleetVerifyMemberResult[];
  /** The oldest member bundle's age: the fleet's RPO is its worst member's. */
  ageSeconds: number | null;
  summary: FleetSummary;
}

async function verifyOne(
  deps: UseCaseDeps,
  options: VerifyOptions,
  name: string,
): Promise<{ result?: VerifyResult; error?: unknown }> {
  try {
    return { result: await verify(deps, { ...options, bundle: undefined, name }) };
  } catch (error) {
    if (deps.signal?.aborted) throw error;
    return { result: CheckFailed.resultOf<VerifyResult>(error, 'layers'), error };
  }
}

export async function verifyFleet(
  deps: UseCaseDeps,
  options: VerifyOptions,
  selection: FleetSelection,
): Promise<FleetVerifyResult> {
  const label = deps.label ?? ((n: string) => n);
  const { logger } = deps;
  const name = options.name!;
  const store = deps.openStore(options.store!);
  const record = await readFleetRecord(store, name);
  const { mode, members } = resolveRecordedMembers(
    name,
    selection,
    record,
    store.displayUri,
    label,
    'verify',
  );
  // the identity or passphrase is read once for the fleet, not once per member
  if (!deps.decrypt) deps = { ...deps, decrypt: await decryptHook(logger, options, deps.label) };
  logger.info(
    `fleet ${name} (${mode}): verifying ${members.length} member(s): ${members.map((m) => m.database).join(', ')}`,
  );
  const done: FleetVerifyMemberResult[] = [];
  if (mode === 'one-recovery-point') {
    // one recovery point is one bundle: read it once, and its verdict is every member's
    throwIfCancelled(deps.signal);
    logger.startGroup(`Fleet ${name}: verify the joint bundle`);
    let shared: { result?: VerifyResult; error?: unknown };
    try {
      shared = await verifyOne(deps, options, name);
    } finally {
      logger.endGroup();
    }
    if (shared.error !== undefined) logger.error(`fleet ${name}: ${messageOf(shared.error)}`);
    for (const member of members) done.push({ member, ...shared });
  } else {
    for (const member of members) {
      throwIfCancelled(deps.signal);
      logger.startGroup(`Fleet member ${member.database}: verify`);
      try {
        const one = await verifyOne(deps, options, member.name);
        if (one.error !== undefined) logger.error(`fleet member ${member.database}: ${messageOf(one.error)}`);
        done.push({ member, ...one });
      } finally {
        logger.endGroup();
      }
    }
  }

  const rows = done.map((d) => verifyRow(d, options, mode));
  const summary = makeSummary('verify', name, mode, rows, deps.clock.now());
  const ages = done.map((d) => d.result?.ageSeconds ?? null).filter((v): v is number => v !== null);
  const out: FleetVerifyResult = {
    ok: summary.ok,
    status: summary.ok ? 'passed' : 'failed',
    name,
    mode,
    members: done,
    ageSeconds: ages.length ? Math.max(...ages) : null,
    summary,
  };
  if (!summary.ok) {
    throw new CheckFailed(failedMembersMessage(summary), out);
  }
  return out;
}

function verifyRow(d: FleetVerifyMemberResult, options: VerifyOptions, mode: FleetMode): FleetMemberRow {
  const r = d.result;
  const passed = d.error === undefined && !!r?.ok;
  const reason = passed
    ? undefined
    : r?.problems.length
      ? r.problems.join('; ')
      : d.error !== undefined
        ? messageOf(d.error)
        : 'failed';
  const bundle = r?.key ?? r?.bundle;
  return {
    database: d.member.database,
    name: d.member.name,
    ...(d.member.component ? { component: d.member.component } : {}),
    ...(bundle ? { bundle: bundle.slice(bundle.lastIndexOf('/') + 1) } : {}),
    bundleAgeSeconds: r?.ageSeconds ?? null,
    rtoSeconds: null,
    rpoSeconds: r?.ageSeconds ?? null,
    ...(options.maxAgeSeconds !== undefined ? { rpoBudgetSeconds: options.maxAgeSeconds } : {}),
    status: passed ? 'passed' : 'failed',
    ...(reason ? { reason } : {}),
    ...(mode === 'one-recovery-point' ? { note: SHARED_VERDICT_NOTE } : {}),
  };
}
