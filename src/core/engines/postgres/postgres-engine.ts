/**
 * PostgreSQL as an `Engine`: pg_dump for backup, its custom-format files and directory dumps for
 * verify (bare, or as bundle members), and its half of the drill. The work lives in the files
 * beside this one; this file says which of them each use case reaches, and how a bundle's members
 * map onto them.
 */
import type { Writable } from 'node:stream';

import type { Component, Manifest, PostgresComponent } from '../../bundle/manifest.js';
import { TransientChunks } from '../../bundle/stream-utils.js';
import type { TarEntry } from '../../bundle/tar.js';
import type { BundleMemberReader, Engine, EngineInspectContext } from '../engine.js';
import { manifestNotApplicable } from '../../verify-layer.js';
import { DirectoryDumpInspection, directoryDumpOf, inspectPgDumpDirectoryPath } from './directory-inspect.js';
import { planPostgresDrill, type PostgresDrillOptions } from './drill.js';
import { dumpPostgres } from './dump.js';
import { inspectPgDumpStream, tablesLayer } from './inspect.js';
import { directoryBundleOrder, isDumpDirectory } from './pgdump-directory.js';
import { isPgDump } from './pgdump-reader.js';

export const postgresEngine: Engine<PostgresDrillOptions> = {
  name: 'postgres',

  dump: (deps, { databaseUrl, id, workDir, options, databaseCount, label }) =>
    dumpPostgres(deps, {
      databaseUrl,
      urlInput: label('database-url'),
      workDir,
      pgBinDir: options.pgBinDir,
      pgClient: options.pgClient,
      pgClientPorts: deps.pgClientPorts,
      // With several databases the container is the MongoDB one (pg_dump then comes from the host).
      dockerContainer: databaseCount === 1 ? options.dockerContainer : undefined,
      searchRoots: deps.searchRoots,
      signal: deps.signal,
      id,
      dumpFormat: options,
      label,
    }),

  orderDumpFiles: directoryBundleOrder,

  summarize(c) {
    const pg = own(c);
    return {
      id: pg.id,
      engine: pg.engine,
      database: pg.database,
      serverVersion: pg.serverVersion,
      tool: `pg_dump ${pg.tool.version}`,
    };
  },

  totals(c) {
    const tables = own(c).tables.filter((t) => t.kind === 'table');
    return { tables: tables.length, rows: tables.reduce((n, t) => n + (t.rows ?? 0), 0) };
  },

  describeSource(c) {
    const pg = own(c);
    return {
      engine: 'postgres',
      database: pg.database,
      serverVersion: pg.serverVersion,
      systemIdentifier: pg.systemIdentifier ?? undefined,
    };
  },

  recognizesBareDump: (head) => isPgDump(head),

  async inspectBareDump(_head, input, { deps, options, findings, extract }) {
    findings.kind = 'bare-pg-dump';
    findings.layers.push({
      name: 'bundle readable',
      ok: true,
      detail: 'a bare pg_dump custom-format file (no dbdrill manifest)',
    });
    const sink = await extract('postgres.dump');
    const inspected = await inspectPgDumpStream(
      deps,
      input,
      'pg_dump file',
      {
        deep: options.deep || !!options.deepForBareDumps,
        pgBinDir: options.pgBinDir,
        pgClient: options.pgClient,
      },
      sink,
    );
    findings.pgDump = inspected.summary;
    findings.layers.push(...inspected.layers, manifestNotApplicable('a bare pg_dump file'));
  },

  readMembers: (context) => new PostgresMemberReader(context),

  recognizesDumpDirectory: (dir) => isDumpDirectory(dir),

  async inspectDumpDirectory(dir, { deps, options, findings }) {
    findings.kind = 'bare-pg-dump';
    findings.layers.push({
      name: 'bundle readable',
      ok: true,
      detail: 'a bare pg_dump directory-format dump (no dbdrill manifest)',
    });
    const out = await inspectPgDumpDirectoryPath(deps, dir, options);
    if (out.summary) findings.pgDump = out.summary;
    findings.layers.push(...out.layers, manifestNotApplicable('a bare pg_dump directory'));
    return { createdAt: out.summary?.report.header.createdAt };
  },

  planDrill: planPostgresDrill,
};

function own(c: Component): PostgresComponent {
  if (c.engine !== 'postgres')
    throw new Error(`internal: a ${c.engine} component given to the PostgreSQL engine`);
  return c;
}

/**
 * A bundle's PostgreSQL members: a custom-format dump is read as it streams; a directory dump's
 * files (a folder member, or pg_dump -Fd files another tool tarred) feed one
 * DirectoryDumpInspection per folder, judged in `finish` once every file has been read.
 */
class PostgresMemberReader implements BundleMemberReader {
  private readonly directoryDumps = new Map<string, DirectoryDumpInspection>();

  constructor(private readonly context: EngineInspectContext) {}

  claims(path: string, manifest: Manifest | undefined): boolean {
    if (directoryDumpOf(manifest, path)) return true;
    if (!manifest) return path.endsWith('.dump');
    return manifest.components.some((c) => c.engine === 'postgres' && c.member === path);
  }

  async read(
    member: TarEntry,
    sink: Writable | undefined,
    manifest: Manifest | undefined,
  ): Promise<{ size: number; sha256: string }> {
    const { deps, options, findings } = this.context;
    const { path } = member;
    const dirDump = directoryDumpOf(manifest, path);
    if (dirDump) {
      let inspection = this.directoryDumps.get(dirDump.folder);
      if (!inspection) {
        // Without a manifest the dump's own rows are the only counts: read it deep when asked to.
        const deep = options.deep || (!manifest && !!options.deepForBareDumps);
        inspection = new DirectoryDumpInspection(
          deps,
          dirDump.folder,
          { deep, pgBinDir: options.pgBinDir, pgClient: options.pgClient },
          dirDump.component,
          this.context.seekable,
        );
        this.directoryDumps.set(dirDump.folder, inspection);
      }
      return inspection.file(member, sink);
    }
    const component = manifest?.components.find(
      (c): c is PostgresComponent => c.engine === 'postgres' && c.member === path,
    );
    const inspected = await inspectPgDumpStream(
      deps,
      new TransientChunks(member.chunks()),
      path,
      { deep: options.deep, pgBinDir: options.pgBinDir, pgClient: options.pgClient },
      sink,
    );
    findings.pgDump = inspected.summary;
    if (inspected.summary && component) (findings.pgDumps ??= {})[component.id] = inspected.summary;
    findings.layers.push(...inspected.layers);
    if (inspected.summary && manifest && component)
      findings.layers.push(tablesLayer(component, inspected.summary, options.deep));
    return { size: inspected.bytes, sha256: inspected.sha256 };
  }

  async finish(manifest: Manifest | undefined): Promise<void> {
    const { options, findings } = this.context;
    for (const inspection of this.directoryDumps.values()) {
      const out = await inspection.finish();
      if (out.summary) findings.pgDump = out.summary;
      if (out.summary && inspection.component)
        (findings.pgDumps ??= {})[inspection.component.id] = out.summary;
      findings.layers.push(...out.layers);
      if (out.summary && manifest && inspection.component)
        findings.layers.push(tablesLayer(inspection.component, out.summary, options.deep));
      this.context.recordExtracted(inspection.folder || '.', inspection.folder);
      // A -Fd tarball from another tool restores like a bare dump.
      if (!manifest) this.context.recordExtracted('postgres.dump', inspection.folder);
    }
  }

  foreignTarball() {
    if (this.directoryDumps.size === 0) return undefined;
    return {
      kind: 'bare-pg-dump' as const,
      members: [...this.directoryDumps.values()].reduce((n, d) => n + d.files, 0),
      manifestLayer: manifestNotApplicable('a pg_dump -Fd tarball'),
    };
  }
}
