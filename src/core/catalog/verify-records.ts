/**
 * Verification records: `<bundle key>.verify.json` beside a bundle in its store, written by verify
 * (when the bundle came from a store) and by backup's post-upload check. `list` shows them and
 * prune protects "the newest verified" bundle and refuses to delete anything while the newest
 * bundle's record says it failed. A record is a claim about the bytes at a time: a newer record
 * replaces an older one, a missing record means "unknown", never "verified".
 */
import { parseBundleKey } from '../bundle/naming.js';
import { messageOf } from '../errors.js';
import { inspectBundle, type InspectDeps, type VerifyResult } from '../inspection/index.js';
import type { Logger } from '../logger.js';
import type { Store } from '../stores/store.js';
import { displayOf } from './locate.js';

export const VERIFY_RECORD_SUFFIX = '.verify.json';

export interface VerifyRecord {
  ok: boolean;
  /** ISO 8601 UTC. */
  verifiedAt: string;
  deep: boolean;
  problems: string[];
  /**
   * "full": every layer that applies ran. "stored-object": only the stored bytes were checked
   * against the sha256 recorded at upload (a bundle encrypted to recipients, checked by a backup
   * runner that holds no key that decrypts it).
   */
  scope?: 'full' | 'stored-object';
  /** Who wrote it: "verify", "backup" or "prune". */
  by?: string;
}

export function recordKey(bundleKey: string): string {
  return bundleKey + VERIFY_RECORD_SUFFIX;
}

export function recordOf(
  result: Pick<VerifyResult, 'ok' | 'problems'>,
  options: { deep: boolean; at: Date; by: string; scope?: VerifyRecord['scope'] },
): VerifyRecord {
  return {
    ok: result.ok,
    verifiedAt: options.at.toISOString(),
    deep: options.deep,
    problems: result.problems,
    scope: options.scope ?? 'full',
    by: options.by,
  };
}

/**
 * Best effort: a store that cannot take the record (read-only credentials, a read-only mount) must
 * not turn a passed verification into a failure, so this warns and returns false instead.
 */
export async function writeVerifyRecord(
  store: Store,
  bundleKey: string,
  record: VerifyRecord,
  logger: Logger,
): Promise<boolean> {
  try {
    await store.writeText(recordKey(bundleKey), JSON.stringify(record, null, 2) + '\n');
    logger.debug(
      `recorded verification of ${bundleKey} (${record.ok ? 'ok' : 'failed'}) in ${store.displayUri}`,
    );
    return true;
  } catch (err) {
    logger.warning(
      `could not write the verification record ${recordKey(bundleKey)} to ${store.displayUri} (${messageOf(err)}); list and prune will show this bundle as "unknown" until a verify can write there`,
    );
    return false;
  }
}

/** undefined when there is no record or it is unreadable (then the bundle counts as not known to verify). */
export async function readVerifyRecord(store: Store, bundleKey: string): Promise<VerifyRecord | undefined> {
  let text: string | undefined;
  try {
    text = await store.readText(recordKey(bundleKey));
  } catch {
    return undefined;
  }
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<VerifyRecord>;
    if (
      typeof parsed.ok !== 'boolean' ||
      typeof parsed.verifiedAt !== 'string' ||
      Number.isNaN(Date.parse(parsed.verifiedAt))
    ) {
      return undefined;
    }
    return {
      ok: parsed.ok,
      verifiedAt: parsed.verifiedAt,
      deep: parsed.deep === true,
      problems: Array.isArray(parsed.problems) ? parsed.problems.map(String) : [],
      scope: parsed.scope === 'stored-object' ? 'stored-object' : 'full',
      by: typeof parsed.by === 'string' ? parsed.by : undefined,
    };
  } catch {
    return undefined;
  }
}

/** Layers that say nothing about the bundle's bytes: its age against max-age is a policy of the run. */
const NOT_ABOUT_THE_BUNDLE = new Set(['backup age']);

/**
 * What verify records for a bundle it read from a store. Not recorded: bare dumps (not bundles),
 * a result whose only failure is that it could not decrypt (a missing or wrong key says nothing
 * about the bundle; recording "failed" would block prune on a typo), an inconclusive one (the
 * store could not be read to the end: a cut connection says nothing about the bytes either), and
 * one of an object the store does not have (a mistyped path, a bundle pruned meanwhile): its record
 * would sit beside nothing.
 */
/**
 * Why a result is no claim about the stored bytes, so no record is written: the store could not
 * be read to the end (inconclusive), or it has no such object.
 */
function noClaimAboutTheBytes(
  result: Pick<VerifyResult, 'inconclusive' | 'objectMissing'>,
): string | undefined {
  return result.objectMissing ? 'the store has no such object' : result.inconclusive;
}

export async function recordVerifyOutcome(
  deps: { logger: Logger; clock: { now(): Date } },
  location: { store: Store; key: string },
  result: Pick<VerifyResult, 'ok' | 'problems' | 'layers' | 'kind' | 'inconclusive' | 'objectMissing'>,
  deep: boolean,
): Promise<void> {
  if (!parseBundleKey(location.key)) return;
  const noClaim = noClaimAboutTheBytes(result);
  if (noClaim) {
    deps.logger.debug(`not recording a verification of ${location.key}: ${noClaim}`);
    return;
  }
  const failing = result.layers.filter((l) => !l.ok && !l.skipped && !NOT_ABOUT_THE_BUNDLE.has(l.name));
  if (failing.length > 0 && failing.every((l) => l.name === 'decrypts')) {
    deps.logger.debug(
      `not recording a verification of ${location.key}: it could not be decrypted with the key given`,
    );
    return;
  }
  const ok = failing.length === 0 && result.layers.length > 0;
  const problems = failing.map((l) => `${l.name}: ${l.detail}`);
  await writeVerifyRecord(
    location.store,
    location.key,
    recordOf({ ok, problems }, { deep, at: deps.clock.now(), by: 'verify' }),
    deps.logger,
  );
}

/**
 * Verifies one stored bundle (not deep) and writes its record: prune does it for a newest bundle
 * without a record, backup for what it just uploaded. A bundle encrypted to recipients cannot be
 * opened without a key, which backup and prune runners should not hold: then the stored bytes are
 * checked against the sha256 recorded at upload, and the record says scope "stored-object" (a
 * passed check of the bytes, not of the contents).
 */
export async function verifyAndRecord(
  deps: InspectDeps & { logger: Logger },
  store: Store,
  key: string,
  by: string,
  options: { write?: boolean } = {},
): Promise<{ record: VerifyRecord; result: VerifyResult }> {
  const result = await inspectBundle(deps, { store, key, display: displayOf(store, key) }, { deep: false });
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
  // A dry run (prune --dry-run) writes nothing, not even the record of what it checked.
  if (options.write !== false && !noClaimAboutTheBytes(result))
    await writeVerifyRecord(store, key, record, deps.logger);
  return { record, result };
}
