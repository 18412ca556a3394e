/**
 * The prune use case: grandfather-father-son retention over one name's bundles in a store.
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
import type { Clock } from './clock.js';
import { SHA256_SIDECAR_SUFFIX } from './backup.js';
import { CheckFailed, messageOf, throwIfCancelled } from './errors.js';
import { listWithRecords, type ListedBundle } from './list.js';
import type { Logger } from './logger.js';
import type { ProcessRunner } from './process.js';
import { checkRetention, planRetention, type RetentionPolicy } from './retention.js';
import type { PruneOptions } from './store-options.js';
import type { Store } from './stores/store.js';
import { inspectBundle, listBundles, type VerifyResult } from './verify.js';
import { recordKey, recordOf, writeVerifyRecord, type VerifyRecord } from './verify-record.js';

export interface PruneDeps {
  logger: Logger;
  clock: Clock;
  runner: ProcessRunner;
  openStore: (uri: string) => Store;
  label?: (input: string) => string;
  searchRoots?: string[];
  signal?: AbortSignal;
}

export interface PruneResult {
  ok: boolean;
  store: string;
  name: string;
  dryRun: boolean;
  /** Newest first, with every reason it is kept. */
  kept: { key: string; reasons: string[] }[];
  /** Deleted (or, with dryRun, would be deleted), newest first. */
  deleted: string[];
  problems: string[];
  blockedReason?: string;
  newest?: string;
  newestVerified?: string;
}

/**
 * Verifies one stored bundle (not deep) and writes its record. A bundle encrypted to recipients
 * cannot be opened without a key, which backup and prune runners should not hold: then the stored
 * bytes are checked against the sha256 recorded at upload, and the record says scope
 * "stored-object" (a passed check of the bytes, not of the contents).
 */
export async function verifyAndRecord(
  deps: PruneDeps & { decrypt?: (cipher: import('node:stream').Readable) => import('node:stream').Readable },
  store: Store,
  key: string,
  by: string,
): Promise<{ record: VerifyRecord; result: VerifyResult }> {
  const result = await inspectBundle(
    { ...deps, label: deps.label },
    { store, key, display: `${store.displayUri.replace(/\/$/, '')}/${key}` },
    { deep: false },
  );
  let scope: VerifyRecord['scope'] = 'full';
  let ok = result.ok;
  if (!ok && result.encrypted && !deps.decrypt) {
    const others = result.layers.filter((l) => l.name !== 'decrypts' && !l.ok && !l.skipped);
    const stored = result.layers.find((l) => l.name === 'stored object');
    if (others.length === 0 && stored?.ok && stored.detail.startsWith('intact')) {
      ok = true;
      scope = 'stored-object';
    }
  }
  const record = recordOf(
    { ok, problems: ok ? [] : result.problems },
    { deep: false, at: deps.clock.now(), by, scope },
  );
  await writeVerifyRecord(store, key, record, deps.logger);
  return { record, result };
}

export async function prune(deps: PruneDeps, options: PruneOptions): Promise<PruneResult> {
  const store = deps.openStore(options.store);
  return pruneStore(deps, store, options.name, options.policy, options.dryRun);
}

/** prune on an open store; backup calls it after its own upload and verification. */
export async function pruneStore(
  deps: PruneDeps,
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
    logger.info(`the newest bundle ${newest.key} has no verification record; verifying it now (not deep)`);
    const { record } = await verifyAndRecord(deps, store, newest.key, 'prune');
    newest.record = record;
    newest.verified = record.ok ? 'yes' : 'no';
    newest.verifiedAt = record.verifiedAt;
  }
  throwIfCancelled(deps.signal);

  const plan = planRetention(
    before.map((b) => ({ key: b.key, timestamp: b.timestamp, verified: b.record ? b.record.ok : undefined })),
    policy,
    deps.clock.now(),
  );
  result.kept = plan.keep.map((k) => ({ key: k.key, reasons: k.reasons }));
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
        for (const sidecar of [d.key + SHA256_SIDECAR_SUFFIX, recordKey(d.key)]) await store.delete(sidecar);
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
  const state = new Map(before.map((b) => [b.key, b.verified]));
  logger.startGroup(`Retention: keep ${keep.length}, ${dryRun ? 'would delete' : 'delete'} ${del.length}`);
  try {
    for (const k of keep)
      logger.info(`keep   ${k.key} (verified: ${state.get(k.key)}): ${k.reasons.join(', ')}`);
    for (const d of del) logger.info(`${dryRun ? 'would delete' : 'delete'} ${d.key}`);
  } finally {
    logger.endGroup();
  }
}
