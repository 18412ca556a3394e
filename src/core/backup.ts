/**
 * The backup use case: dump, count in the same snapshot, add the secret store, and publish one
 * bundle atomically. Nothing reaches the store until everything it depends on has succeeded.
 * With a retention policy, the new bundle is then verified where it was stored and the name is
 * pruned (backupAndPrune).
 */
import {
  bundleKey,
  bundlesOf,
  pruneStore,
  verifyAndRecord,
  writeSha256Sidecar,
  type PruneResult,
  type VerifyRecord,
} from './catalog/index.js';
import {
  CHECKSUMS_MEMBER,
  MANIFEST_FORMAT,
  MANIFEST_MEMBER,
  manifestFormatVersionFor,
  manifestSummary,
  type Manifest,
  type MemberRecord,
} from './bundle/manifest.js';
import { bundleChunks, packBundle, type PackEntry } from './bundle/tar.js';
import {
  checkMaxSkew,
  componentSummary,
  componentTotals,
  computeSkew,
  dumpComponents,
  dumpMembers,
  dumpPackEntries,
  latestEnd,
  type DumpedComponent,
} from './components.js';
import type { UseCaseDeps } from './deps.js';
import { decryptHook, prepareBackupSecurity, type BackupSecurity } from './encryption.js';
import { Cancelled, CheckFailed, throwIfCancelled } from './errors.js';
import type { BackupOptions } from './options/index.js';
import type { RetentionPolicy } from './retention.js';
import { collectSecretFiles, secretsRecord } from './secrets.js';
import type { PutOptions, PutResult, Store } from './stores/store.js';
import { DBDRILL_VERSION } from './version.js';
import { makeWorkDir } from './work-dir.js';

/** The shared use-case deps under backup's old name (`encrypt` wraps the bundle stream). */
export type BackupDeps = UseCaseDeps;

export interface BackupResult {
  ok: true;
  bundle: string;
  key: string;
  sha256: string;
  sizeBytes: number;
  durationSeconds: number;
  name: string;
  startedAt: string;
  endedAt: string;
  encrypted: boolean;
  tables: number;
  rows: number;
  secretFiles: number;
  secretsFingerprint: string | null;
  components: { id: string; engine: string; database: string; serverVersion: string; tool: string }[];
  /** MongoDB namespaces and their documents, read from the archives. */
  collections: number;
  documents: number;
  /** Seconds between the first dump's start and the last one's end; null with one database. */
  skewSeconds: number | null;
}

export async function backup(deps: BackupDeps, options: BackupOptions): Promise<BackupResult> {
  const { logger, clock } = deps;
  const label = deps.label ?? ((n: string) => n);
  const t0 = clock.monotonicMs();
  const startedAt = clock.now();
  const store = deps.openStore(options.store);
  await store.checkWritable?.();
  const secrets = await collectSecretFiles(options.secretFiles, label('secret-files'));
  // Masks secret values, refuses plain secret files, builds the encrypt stream and checks the KEK pairing.
  const security = await prepareBackupSecurity({ ...deps, label }, options, secrets, deps.encrypt);
  store.checkBundle?.({ secretFiles: secrets.length, encrypted: !!security.encrypt });

  // Listing before dumping also proves the store answers (bucket, credentials) before any work is done.
  const existing = new Set((await store.list(options.name)).map((o) => o.key));

  const work = await makeWorkDir('backup');
  try {
    logger.startGroup(`Dumping ${(options.databases ?? [options]).map((d) => d.engine).join(' + ')}`);
    let dumps: DumpedComponent[];
    try {
      dumps = await dumpComponents(deps, options, work.dir, label);
    } catch (err) {
      throwIfCancelled(deps.signal);
      throw err;
    } finally {
      logger.endGroup();
    }
    throwIfCancelled(deps.signal);
    const components = dumps.map((d) => d.component);
    const skew = computeSkew(components);
    if (skew) logger.info(`skew between the dumps: ${skew.seconds} s (${skew.from} to ${skew.to})`);
    checkMaxSkew(skew, options.maxSkewSeconds, label);
    const members: MemberRecord[] = [
      ...(await dumpMembers(dumps, deps.engines)),
      ...secrets.map((s): MemberRecord => ({
        path: s.member,
        sizeBytes: s.sizeBytes,
        sha256: s.sha256,
        role: 'secret',
      })),
    ];
    const endedAt = latestEnd(components);
    const encrypted = !!security.encrypt;
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      formatVersion: manifestFormatVersionFor(components),
      dbdrillVersion: DBDRILL_VERSION,
      name: options.name,
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      components,
      members,
      secrets: secretsRecord(secrets),
      encryption: security.encryption,
      ...(skew ? { skew } : {}),
      checksums: CHECKSUMS_MEMBER,
    };
    const mtime = endedAt;
    const entries: PackEntry[] = [
      { path: MANIFEST_MEMBER, content: Buffer.from(JSON.stringify(manifest, null, 2) + '\n'), mtime },
      ...(await dumpPackEntries(dumps, mtime, deps.engines)),
      ...secrets.map((s): PackEntry => ({ path: s.member, file: s.source, mtime })),
    ];

    let key = bundleKey(options.name, startedAt, { encrypted });
    for (let seq = 2; existing.has(key); seq++)
      key = bundleKey(options.name, startedAt, { encrypted, sequence: seq });
    if (bundlesOf(options.name, [key]).length !== 1)
      throw new Error(`internal: bundle key ${key} does not parse`);

    logger.info(`Writing ${key} to ${store.displayUri}`);
    // A cancelled run must not publish: the bundle's bytes stop with an error and the store discards them.
    const cancel = new AbortController();
    const onAbort = () => cancel.abort(new Cancelled(String(deps.signal?.reason ?? 'abort')));
    deps.signal?.addEventListener('abort', onAbort, { once: true });
    let put;
    try {
      put = await storeBundle(store, key, entries, security, cancel.signal, {
        metadata: manifestSummary(manifest),
        noOverwrite: true,
      });
    } finally {
      deps.signal?.removeEventListener('abort', onAbort);
    }
    throwIfCancelled(deps.signal);
    await writeSha256Sidecar(store, key, put.sha256);
    const totals = componentTotals(components, deps.engines);
    const result: BackupResult = {
      ok: true,
      bundle: put.location,
      key,
      sha256: put.sha256,
      sizeBytes: put.sizeBytes,
      durationSeconds: round((clock.monotonicMs() - t0) / 1000),
      name: options.name,
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      encrypted,
      tables: totals.tables,
      rows: totals.rows,
      secretFiles: secrets.length,
      secretsFingerprint: manifest.secrets?.fingerprint ?? null,
      components: components.map((c) => componentSummary(c, deps.engines)),
      collections: totals.collections,
      documents: totals.documents,
      skewSeconds: skew?.seconds ?? null,
    };
    return result;
  } finally {
    await work.remove();
  }
}

/**
 * Streams the bundle into the store. A dump file's chunks come through one refilled buffer
 * (`bundleChunks` with `reuseBuffers`) when whoever takes them is done with each before asking for
 * the next: a store with `putChunks` (a local directory, S3: each chunk is copied into a reused
 * part buffer), or dbdrill's own age encryptor. A caller's encrypt hook is unknown, and the
 * artifact store takes a stream: those get fresh buffers.
 */
async function storeBundle(
  store: Store,
  key: string,
  entries: PackEntry[],
  security: BackupSecurity,
  signal: AbortSignal,
  putOptions: PutOptions,
): Promise<PutResult> {
  const options = { checksumsMember: CHECKSUMS_MEMBER, signal };
  const reused = () => bundleChunks(entries, { ...options, reuseBuffers: true });
  if (!security.encrypt && store.putChunks) return store.putChunks(key, reused(), putOptions);
  // from the packer's reused buffers through the encryptor's to the store's writes: no copy kept
  if (security.encryptChunks && store.putChunks)
    return store.putChunks(key, security.encryptChunks(reused()), putOptions);
  const body = security.encryptChunks
    ? security.encryptChunks(reused()).toReadable()
    : security.encrypt
      ? security.encrypt(packBundle(entries, options))
      : packBundle(entries, options);
  // The chunks stop at the next read after an abort; this stops a store that is not reading.
  const stop = () => body.destroy(signal.reason as Error);
  signal.addEventListener('abort', stop, { once: true });
  try {
    return await store.put(key, body, putOptions);
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

export interface BackupAndPruneResult extends BackupResult {
  /** The post-upload verification (only when a retention policy was given). */
  verification?: VerifyRecord;
  prune?: PruneResult;
}

/**
 * backup, then (only when a retention policy was given) verify the new bundle where it was stored
 * and prune. Pruning after an unverified upload could rotate a good bundle away in favour of a bad
 * one, so a failed verification stops here with CheckFailed and deletes nothing.
 *
 * Without keep-* options backup does not re-read what it uploaded (that would double its I/O); the
 * stored object's sha256 sidecar still lets any later verify prove the bytes are intact.
 */
export async function backupAndPrune(
  deps: UseCaseDeps,
  options: BackupOptions,
  policy: RetentionPolicy | undefined,
): Promise<BackupAndPruneResult> {
  const result: BackupAndPruneResult = await backup(deps, options);
  if (!policy) return result;
  const { logger } = deps;
  const store = deps.openStore(options.store);
  logger.startGroup(`Verifying ${result.key} where it was stored, before pruning`);
  let record: VerifyRecord;
  try {
    // A passphrase decrypts what it encrypted; recipients' private keys are (rightly) not here.
    const decrypt = options.passphrase
      ? await decryptHook(logger, { passphrase: options.passphrase }, deps.label)
      : undefined;
    ({ record } = await verifyAndRecord({ ...deps, decrypt }, store, result.key, 'backup'));
  } finally {
    logger.endGroup();
  }
  result.verification = record;
  if (!record.ok) {
    throw new CheckFailed(
      `the new bundle ${result.key} failed verification after upload, so nothing was pruned: ${record.problems.join('; ')}`,
      result,
    );
  }
  if (record.scope === 'stored-object') {
    logger.info(
      `${result.key} is encrypted to recipients: its stored bytes match the uploaded sha256; run verify with identity to check its contents`,
    );
  }
  result.prune = await pruneStore(deps, store, options.name, policy, false);
  return result;
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
