/**
 * The backup use case: dump, count in the same snapshot, add the secret store, and publish one
 * bundle atomically. Nothing reaches the store until everything it depends on has succeeded.
 */
import type { Readable } from 'node:stream';

import { bundleKey, bundlesOf } from './bundle/naming.js';
import {
  CHECKSUMS_MEMBER,
  MANIFEST_FORMAT,
  MANIFEST_MEMBER,
  manifestFormatVersionFor,
  manifestSummary,
  type Manifest,
  type MemberRecord,
} from './bundle/manifest.js';
import { packBundle, type PackEntry } from './bundle/tar.js';
import type { Clock } from './clock.js';
import {
  checkMaxSkew,
  componentSummary,
  computeSkew,
  dumpComponents,
  dumpMembers,
  dumpPackEntries,
  latestEnd,
  type DumpedComponent,
} from './components.js';
import type { MongoToolDownloader } from './engines/mongodb/mongo-tools.js';
import { prepareBackupSecurity } from './encryption.js';
import { Cancelled, throwIfCancelled } from './errors.js';
import type { Logger } from './logger.js';
import type { BackupOptions } from './options.js';
import type { ProcessRunner } from './process.js';
import { collectSecretFiles, secretsRecord } from './secrets.js';
import type { Store } from './stores/store.js';
import { DBDRILL_VERSION } from './version.js';
import { makeWorkDir } from './work-dir.js';

export interface BackupDeps {
  runner: ProcessRunner;
  logger: Logger;
  clock: Clock;
  openStore: (uri: string) => Store;
  signal?: AbortSignal;
  /** How inputs are named in messages (`--x` on the CLI, `x` in actions). */
  label?: (input: string) => string;
  searchRoots?: string[];
  /** Fetches the pinned MongoDB Database Tools when none is installed (tool-cache in the adapters). */
  mongoToolDownloader?: MongoToolDownloader;
  /** Wraps the bundle stream (encryption); returns the stream to store and whether it is encrypted. */
  encrypt?: (plain: Readable) => Readable;
}

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

export const SHA256_SIDECAR_SUFFIX = '.sha256';

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
      ...(await dumpMembers(dumps)),
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
      ...(await dumpPackEntries(dumps, mtime)),
      ...secrets.map((s): PackEntry => ({ path: s.member, file: s.source, mtime })),
    ];

    let key = bundleKey(options.name, startedAt, { encrypted });
    for (let seq = 2; existing.has(key); seq++)
      key = bundleKey(options.name, startedAt, { encrypted, sequence: seq });
    if (bundlesOf(options.name, [key]).length !== 1)
      throw new Error(`internal: bundle key ${key} does not parse`);

    logger.info(`Writing ${key} to ${store.displayUri}`);
    const plain = packBundle(entries, { checksumsMember: CHECKSUMS_MEMBER });
    const body = security.encrypt ? security.encrypt(plain) : plain;
    // A cancelled run must not publish: failing the body stream makes the store discard the upload.
    const onAbort = () => body.destroy(new Cancelled(String(deps.signal?.reason ?? 'abort')));
    deps.signal?.addEventListener('abort', onAbort, { once: true });
    let put;
    try {
      put = await store.put(key, body, { metadata: manifestSummary(manifest), noOverwrite: true });
    } finally {
      deps.signal?.removeEventListener('abort', onAbort);
    }
    throwIfCancelled(deps.signal);
    await store.writeText(key + SHA256_SIDECAR_SUFFIX, `${put.sha256}  ${key}\n`);
    const tables = components
      .flatMap((c) => (c.engine === 'postgres' ? c.tables : []))
      .filter((t) => t.kind === 'table');
    const collections = components.flatMap((c) => (c.engine === 'mongodb' ? c.collections : []));
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
      tables: tables.length,
      rows: tables.reduce((n, t) => n + (t.rows ?? 0), 0),
      secretFiles: secrets.length,
      secretsFingerprint: manifest.secrets?.fingerprint ?? null,
      components: components.map(componentSummary),
      collections: collections.length,
      documents: collections.reduce((n, c) => n + c.documents, 0),
      skewSeconds: skew?.seconds ?? null,
    };
    return result;
  } finally {
    await work.remove();
  }
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
