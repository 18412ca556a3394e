/**
 * Retention applied to a store: grandfather-father-son over one name's bundles.
 *
 * Order of work, each step for a reason:
 * 1. List, and read each bundle's verification record (`<key>.verify.json`).
 * 2. The newest bundle without a record is verified now (not deep): protections hinge on whether
 *    it verifies, and trusting nothing would either block every prune or protect nothing.
 * 3. planRetention decides (protections beat the policy; a newest bundle that failed blocks all
 *    deletes, and prune then fails with exit 1 so a red run says the newest backup is bad).
 * 4. Delete the bundle, then its `.sha256` and `.verify.json` sidecars. Deletes are idempotent.
 * 5. List again and check: what was deleted is gone, and checkRetention(remaining, policy,
 *    before) says each tier still holds what the policy promises. Any problem is CheckFailed.
 */
import { CheckFailed, messageOf, throwIfCancelled } from '../errors.js';
import type { InspectDeps } from '../inspection/index.js';
import type { Logger } from '../logger.js';
import { checkRetention, planRetention, type RetentionPolicy } from '../retention.js';
import { sha256SidecarKey } from '../stores/sha256-sidecar.js';
import type { Store } from '../stores/store.js';
import {
  LEVEL_TEXT,
  contentsVerified,
  listWithRecords,
  verifiedLevel,
  verifiedState,
  type ListedBundle,
  type VerifiedLevel,
} from './listing.js';
import { listBundles } from './locate.js';
import { recordKey, verifyAndRecord } from './verify-records.js';

export type PruneStoreDeps = InspectDeps & { logger: Logger };

export interface PruneResult {
  ok: boolean;
  store: string;
  name: string;
  dryRun: boolean;
  /** Newest first, with every reason it is kept. */
  kept: { key: string; reasons: string[]; level?: VerifiedLevel }[];
  /** Deleted (or, with dryRun, would be deleted), newest first. */
  deleted: string[];
  problems: string[];
  blockedReason?: string;
  newest?: string;
  newestVerified?: string;
}

/** Prunes `name` in an open store; the prune use case and backup (after verifying its upload) call it. */
export async function pruneStore(
  deps: PruneStoreDeps,
  store: Store,
  name: string,
  policy: RetentionPolicy,
  dryRun: boolean,
): Promise<PruneResult> {
  const { logger } = deps;
  const before = await listWithRecords(store, name, deps.clock);
  const result: PruneResult = {
    ok: true,
    store: store.displayUri,
    name,
    dryRun,
    kept: [],
    deleted: [],
    problems: [],
  };
  if (before.length === 0) {
    logger.info(`no bundles named "${name}" in ${store.displayUri}: nothing to prune`);
    return result;
  }
  const newest = before[0];
  if (!newest.record) {
    logger.info(
      `the newest bundle ${newest.key} has no verification record; verifying it now (not deep${dryRun ? ', dry run: the record is not written' : ''})`,
    );
    const { record } = await verifyAndRecord(deps, store, newest.key, 'prune', { write: !dryRun });
    newest.record = record;
    newest.verified = verifiedState(record);
    newest.level = verifiedLevel(record);
    newest.verifiedAt = record.verifiedAt;
  }
  throwIfCancelled(deps.signal);

  const plan = planRetention(
    before.map((b) => ({ key: b.key, timestamp: b.timestamp, verified: contentsVerified(b.record) })),
    policy,
    deps.clock.now(),
  );
  const levels = new Map(before.map((b) => [b.key, b.level]));
  result.kept = plan.keep.map((k) => ({ key: k.key, reasons: k.reasons, level: levels.get(k.key) }));
  result.deleted = plan.delete.map((d) => d.key);
  result.newest = plan.newest;
  result.newestVerified = plan.newestVerified;
  logPlan(logger, before, plan.keep, plan.delete, dryRun);

  if (plan.blockedReason) {
    result.ok = false;
    result.blockedReason = plan.blockedReason;
    result.deleted = [];
    result.problems.push(plan.blockedReason);
    const why = newest.record?.problems.length ? ` (${newest.record.problems.join('; ')})` : '';
    throw new CheckFailed(`prune deleted nothing: ${plan.blockedReason}${why}`, result);
  }
  if (!plan.newestVerified) {
    logger.warning(
      `no bundle of "${name}" is known to verify; prune keeps the newest and the policy's picks, but run verify to protect a known-good bundle`,
    );
  }

  if (dryRun) {
    // The plan checked against itself: a bug in planning shows here before anyone deletes for real.
    result.problems.push(...checkRetention(plan.keep, policy, before));
    logger.info(`dry run: ${plan.delete.length} bundle(s) would be deleted, ${plan.keep.length} kept`);
  } else {
    for (const d of plan.delete) {
      throwIfCancelled(deps.signal);
      try {
        await store.delete(d.key);
        for (const sidecar of [sha256SidecarKey(d.key), recordKey(d.key)]) await store.delete(sidecar);
        logger.info(`deleted ${d.key}`);
      } catch (err) {
        result.problems.push(`could not delete ${d.key}: ${messageOf(err)}`);
      }
    }
    const remaining = await listBundles(store, name);
    const still = new Set(remaining.map((r) => r.key));
    for (const key of result.deleted) {
      if (still.has(key) && !result.problems.some((p) => p.includes(key))) {
        result.problems.push(
          `${key} was deleted but is still listed in ${store.displayUri}: the store did not delete it`,
        );
      }
    }
    result.problems.push(...checkRetention(remaining, policy, before));
    for (const k of plan.keep) {
      if (!still.has(k.key))
        result.problems.push(`${k.key} should have been kept (${k.reasons.join(', ')}) but is gone`);
    }
  }
  if (result.problems.length > 0) {
    result.ok = false;
    throw new CheckFailed(
      `prune of "${name}" in ${store.displayUri} did not leave what the policy promises: ${[...new Set(result.problems)].join('; ')}`,
      result,
    );
  }
  logger.info(
    `prune ok: kept ${result.kept.length}, ${dryRun ? 'would delete' : 'deleted'} ${result.deleted.length} bundle(s) of "${name}"`,
  );
  return result;
}

function logPlan(
  logger: Logger,
  before: ListedBundle[],
  keep: { key: string; reasons: string[] }[],
  del: { key: string }[],
  dryRun: boolean,
): void {
  const state = new Map(before.map((b) => [b.key, b.level]));
  logger.startGroup(`Retention: keep ${keep.length}, ${dryRun ? 'would delete' : 'delete'} ${del.length}`);
  try {
    for (const k of keep)
      logger.info(`keep   ${k.key} (${levelText(state.get(k.key))}): ${k.reasons.join(', ')}`);
    for (const d of del)
      logger.info(`${dryRun ? 'would delete' : 'delete'} ${d.key} (${levelText(state.get(d.key))})`);
  } finally {
    logger.endGroup();
  }
}

/** Keeps the "verified: yes" wording scripts grep for, and adds the level reached. */
function levelText(level: VerifiedLevel | undefined): string {
  if (level === 'verified') return 'verified: yes';
  if (level === 'verified-deep') return 'verified: yes, deep';
  if (level === 'failed') return 'verified: no';
  if (level === 'stored-object-intact') return `verified: no, ${LEVEL_TEXT[level]}`;
  return 'verified: unknown';
}
