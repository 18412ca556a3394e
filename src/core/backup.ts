/**
 * The backup use case: dump, count in the same snapshot, add the secret store, and publish one
 * bundle atomically. Nothing reaches the store until everything it depends on has succeeded.
 */
import { chmod } from 'node:fs/promises';
import type { Readable } from 'node:stream';

import { bundleKey, bundlesOf } from './bundle/naming.js';
import {
  MANIFEST_FORMAT,
  MANIFEST_FORMAT_VERSION,
  MANIFEST_MEMBER,
  manifestSummary,
  type Manifest,
  type MemberRecord,
  type PostgresComponent,
} from './bundle/manifest.js';
import { sha256File } from './bundle/stream-utils.js';
import { packBundle, type PackEntry } from './bundle/tar.js';
import type { Clock } from './clock.js';
import { dumpPostgres } from './engines/postgres/dump.js';
import { prepareBackupSecurity } from './encryption.js';
import { Cancelled, ConfigError, throwIfCancelled } from './errors.js';
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
}

export const SHA256_SIDECAR_SUFFIX = '.sha256';

export async function backup(deps: BackupDeps, options: BackupOptions): Promise<BackupResult> {
  const { logger, clock } = deps;
  const label = deps.label ?? ((n: string) => n);
  const t0 = clock.monotonicMs();
  const startedAt = clock.now();
  if (options.engine !== 'postgres') {
    throw new ConfigError(`${label('engine')} "${options.engine}" is not supported by this build yet; use postgres`);
  }
  const store = deps.openStore(options.store);
  await store.checkWritable?.();
  const secrets = await collectSecretFiles(options.secretFiles, label('secret-files'));
  // Masks secret values, refuses plain secret files, builds the encrypt stream and checks the KEK pairing.
  const security = await prepareBackupSecurity({ ...deps, label }, options, secrets, deps.encrypt);

  const work = await makeWorkDir('backup');
  try {
    logger.startGroup(`Dumping ${options.engine}`);
    let component: PostgresComponent;
    let dumpPath: string;
    try {
      ({ component, dumpPath } = await dumpPostgres(deps, {
        databaseUrl: options.databaseUrl,
        urlInput: label('database-url'),
        workDir: work.dir,
        pgBinDir: options.pgBinDir,
        dockerContainer: options.dockerContainer,
        searchRoots: deps.searchRoots,
        signal: deps.signal,
      }));
    } catch (err) {
      throwIfCancelled(deps.signal);
      throw err;
    } finally {
      logger.endGroup();
    }
    throwIfCancelled(deps.signal);
    await chmod(dumpPath, 0o600);
    const dumpHash = await sha256File(dumpPath);
    const members: MemberRecord[] = [
      { path: component.member, sizeBytes: dumpHash.sizeBytes, sha256: dumpHash.sha256, role: 'dump', component: component.id },
      ...secrets.map((s): MemberRecord => ({ path: s.member, sizeBytes: s.sizeBytes, sha256: s.sha256, role: 'secret' })),
    ];
    const endedAt = new Date(component.endedAt);
    const encrypted = !!security.encrypt;
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      formatVersion: MANIFEST_FORMAT_VERSION,
      dbdrillVersion: DBDRILL_VERSION,
      name: options.name,
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      components: [component],
      members,
      secrets: secretsRecord(secrets),
      encryption: security.encryption,
    };
    const mtime = endedAt;
    const entries: PackEntry[] = [
      { path: MANIFEST_MEMBER, content: Buffer.from(JSON.stringify(manifest, null, 2) + '\n'), mtime },
      { path: component.member, file: dumpPath, mtime },
      ...secrets.map((s): PackEntry => ({ path: s.member, file: s.source, mtime })),
    ];

    const existing = new Set((await store.list(options.name)).map((o) => o.key));
    let key = bundleKey(options.name, startedAt, { encrypted });
    for (let seq = 2; existing.has(key); seq++) key = bundleKey(options.name, startedAt, { encrypted, sequence: seq });
    if (bundlesOf(options.name, [key]).length !== 1) throw new Error(`internal: bundle key ${key} does not parse`);

    logger.info(`Writing ${key} to ${store.displayUri}`);
    const plain = packBundle(entries);
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
    const tables = component.tables.filter((t) => t.kind === 'table');
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
      components: [
        {
          id: component.id,
          engine: component.engine,
          database: component.database,
          serverVersion: component.serverVersion,
          tool: `pg_dump ${component.tool.version}`,
        },
      ],
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
