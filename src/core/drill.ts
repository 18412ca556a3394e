/**
 * The restore drill: fetch and verify the newest recovery point, restore it into a scratch
 * database, migrate, boot the app on it, prove it healthy, compare structure and counts, and time
 * every phase. Whatever happens, what dbdrill started is stopped and a report is written.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { startApp, type AppProcess } from './app-process.js';
import type { PostgresComponent } from './bundle/manifest.js';
import { loadHealthChecksFile, parseHealthUrls, waitForHealthy, type HealthCheck } from './checks/health.js';
import { describeDrift } from './checks/drift.js';
import {
  checkSequences,
  checkStructure,
  compareCounts,
  compareWithProduction,
  manifestExpectations,
  runAssertions,
} from './checks/structure.js';
import {
  connectPg,
  describeTarget,
  libpqEnv,
  parsePgUrl,
  quoteIdent,
} from './engines/postgres/connection.js';
import { restorePostgres } from './engines/postgres/restore.js';
import {
  assertNotMongoSource,
  checkMongoCounts,
  planMongoDrill,
  restoreMongoPlan,
} from './engines/mongodb/drill-mongo.js';
import type { NsRename } from './engines/mongodb/restore.js';
import { prepareDrillSecrets, runDrillKekCheck } from './drill-security.js';
import { decryptHook } from './encryption.js';
import { Cancelled, CheckFailed, ConfigError, messageOf } from './errors.js';
import { kekCheckWanted } from './kek.js';
import type { DrillOptions } from './options.js';
import { provisionTarget, type ScratchTarget } from './provision/target.js';
import {
  DRILL_REPORT_SCHEMA_VERSION,
  toHistoryEntry,
  type DrillCheck,
  type DrillPhase,
  type DrillReport,
  type HistoryEntry,
} from './report/model.js';
import { writeDrillReport } from './report/write.js';
import type { Store } from './stores/store.js';
import { DBDRILL_VERSION } from './version.js';
import {
  inspectBundle,
  listBundles,
  locateBundle,
  resolveNewest,
  type BundleLocation,
  type VerifyDeps,
  type VerifyResult,
} from './verify.js';
import { makeWorkDir } from './work-dir.js';

export type DrillDeps = VerifyDeps & { redact?: (text: string) => string };

export interface DrillResult {
  ok: boolean;
  status: 'passed' | 'failed' | 'cancelled';
  bundle?: string;
  rtoSeconds: number | null;
  rpoSeconds: number | null;
  phases: { name: string; seconds: number; status: string }[];
  counts: { name: string; expected: number | null; actual: number | null; ok: boolean }[];
  checks: { total: number; failed: number; failures: string[] };
  reportDir: string;
  reportPath: string;
  report: DrillReport;
}

export const HISTORY_SUFFIX = '.drill-history.jsonl';
const HISTORY_KEEP = 20;

const round = (n: number) => Math.round(n * 1000) / 1000;

export async function drill(deps: DrillDeps, options: DrillOptions): Promise<DrillResult> {
  if (!deps.decrypt) deps = { ...deps, decrypt: await decryptHook(deps.logger, options, deps.label) };
  const { clock, logger } = deps;
  const startedAt = clock.now();
  const t0 = clock.monotonicMs();
  const report: DrillReport = {
    schemaVersion: DRILL_REPORT_SCHEMA_VERSION,
    tool: { name: 'dbdrill', version: DBDRILL_VERSION },
    status: 'failed',
    ok: false,
    name: options.name,
    startedAt: startedAt.toISOString(),
    finishedAt: startedAt.toISOString(),
    objectives: {},
    phases: [],
    checks: [],
    counts: [],
    restoreErrors: [],
    health: [],
    notes: [],
  };
  const check = (c: DrillCheck) => report.checks.push(c);

  let target: ScratchTarget | undefined;
  let app: AppProcess | undefined;
  let work: Awaited<ReturnType<typeof makeWorkDir>> | undefined;
  let healthyAtMs: number | undefined;
  let store: Store | undefined;
  let thrown: unknown;

  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const begin = clock.monotonicMs();
    const entry: DrillPhase = { name, startedAt: clock.now().toISOString(), seconds: 0, status: 'ok' };
    report.phases.push(entry);
    logger.startGroup(`drill: ${name}`);
    try {
      throwIfAborted(deps.signal);
      const out = await fn();
      throwIfAborted(deps.signal);
      return out;
    } catch (err) {
      entry.status = deps.signal?.aborted ? 'cancelled' : 'failed';
      entry.detail = messageOf(err);
      throw err;
    } finally {
      entry.seconds = round((clock.monotonicMs() - begin) / 1000);
      logger.endGroup();
    }
  };
  const skip = (name: string, detail: string) =>
    report.phases.push({ name, startedAt: clock.now().toISOString(), seconds: 0, status: 'skipped', detail });

  try {
    // 1. fetch + verify, in one streaming pass that also extracts the dump and the secret store
    work = await makeWorkDir('drill');
    const workDir = work.dir;
    let location: BundleLocation;
    if (options.bundle) location = locateBundle(deps, options.bundle);
    else {
      store = deps.openStore(options.store!);
      location = await resolveNewest(store, options.name!);
    }
    report.bundle = location.display;
    const verified = await phase('fetch + verify', async () => {
      const r = await inspectBundle(deps, location, {
        deep: false,
        deepForBareDumps: true,
        pgBinDir: options.pgBinDir,
        extractTo: join(workDir, 'bundle'),
      });
      for (const l of r.layers) {
        check({
          name: l.name,
          group: 'verify',
          ok: l.ok || !!l.skipped,
          skipped: l.skipped,
          detail: l.detail,
        });
        logger.info(`[${l.skipped ? 'skip' : l.ok ? ' ok ' : 'FAIL'}] ${l.name}: ${l.detail}`);
      }
      if (!r.ok) {
        const good = store ? await newestThatVerifies(deps, store, options, location.key) : undefined;
        throw new CheckFailed(
          `the bundle ${location.display} failed verification (${r.problems.join('; ')})` +
            (good
              ? `; the newest bundle that verifies is ${good}: pass it as bundle to drill it`
              : store
                ? '; no older bundle of this name verifies either'
                : ''),
        );
      }
      return r;
    });
    const component = verified.manifest?.components.find(
      (c): c is PostgresComponent => c.engine === 'postgres',
    );
    const mongo = planMongoDrill(verified, options, deps.label);
    const hasPg = !!component || (!verified.manifest && !!verified.pgDump);
    if (!hasPg && !mongo) throw new CheckFailed('the bundle holds no database dump to restore');
    if (hasPg && !options.targetUrl && !options.provision) {
      throw new ConfigError(
        `this bundle holds a PostgreSQL dump: add a postgres:// ${deps.label?.('target-url') ?? 'target-url'} next to the mongodb:// one, or ${deps.label?.('provision') ?? 'provision'}: local`,
      );
    }
    const dumpMember = component?.member ?? 'postgres.dump';
    const dumpPath = hasPg ? verified.extracted?.[dumpMember] : '';
    if (hasPg && (!dumpPath || !verified.pgDump))
      throw new CheckFailed('the bundle holds no PostgreSQL dump to restore');
    const toc = verified.pgDump?.report.toc ?? [];
    const backupEnd = backupEndOf(verified, location);
    report.bundleCreatedAt = backupEnd?.toISOString();
    if (!verified.manifest && mongo) {
      report.notes.push(
        'bare mongodump archive (no dbdrill manifest): document counts are compared with the archive itself',
      );
    } else if (!verified.manifest) {
      report.notes.push(
        'bare pg_dump file (no dbdrill manifest): member checksums, secret files and the snapshot row counts do not apply; rows are compared with the COPY data in the dump itself',
      );
    }
    const rpoSeconds = backupEnd ? round((startedAt.getTime() - backupEnd.getTime()) / 1000) : undefined;
    report.rpoSeconds = rpoSeconds;
    const database = component?.database ?? verified.pgDump?.database ?? 'drill';

    // 2. provision
    target = await phase('provision', async () => {
      if (mongo) {
        assertNotMongoSource(mongo, options.nsRenames ?? [], deps.label);
        report.target = { kind: 'url', display: mongo.display };
        logger.info(`MongoDB target: ${mongo.display}`);
      }
      if (!hasPg) return undefined;
      const t = await provisionTarget(deps, {
        targetUrl: options.targetUrl,
        provision: options.provision,
        pgVersion: options.pgVersion,
        image: options.image,
        pgBinDir: options.pgBinDir,
        database,
        sourceMajor: component
          ? Math.floor(component.serverVersionNum / 10000)
          : majorOfVersion(verified.pgDump!.serverVersion),
        searchRoots: deps.searchRoots,
        signal: deps.signal,
      });
      target = t; // known to teardown even if the checks below throw
      report.target = { kind: t.kind, display: mongo ? `${t.display} + ${mongo.display}` : t.display };
      logger.info(`target: ${t.display}`);
      await checkTargetSafety(t, component, options.clean, report, deps);
      return t;
    });
    const targetEnv: NodeJS.ProcessEnv = target
      ? { ...libpqEnv(parsePgUrl(target.url, 'target-url')), ...target.env, DATABASE_URL: target.url }
      : { DATABASE_URL: mongo!.targetUrl };
    if (mongo) targetEnv.MONGODB_URL = mongo.targetUrl;
    let mongoRenames: NsRename[] = [];
    const secretsDir =
      verified.extracted && Object.keys(verified.extracted).some((m) => m.startsWith('secrets/'))
        ? join(workDir, 'bundle', 'secrets')
        : undefined;
    // Masks the restored secret values; with secrets-env, their .env variables join the app's and migrate-command's env.
    Object.assign(targetEnv, await prepareDrillSecrets(logger, options, secretsDir, report.notes));

    // 3. restore
    await phase('restore', async () => {
      if (mongo) mongoRenames = await restoreMongoPlan(deps, mongo, options, workDir, check, report.notes);
      if (!hasPg) return undefined;
      const out = await restorePostgres(deps, {
        dumpPath: dumpPath!,
        targetUrl: target!.url,
        archiveMinor: Number(verified.pgDump!.archiveVersion.split('.')[1]),
        compression: verified.pgDump!.compression,
        toc,
        tier: options.tier,
        sampleTables: options.sampleTables,
        jobs: options.jobs,
        noOwner: options.noOwner,
        noAcl: options.noAcl,
        createRoles: options.createRoles,
        extraRoles: component?.roles,
        ignore: options.ignoreRestoreErrors,
        pgBinDir: options.pgBinDir,
        searchRoots: deps.searchRoots,
        workDir,
        signal: deps.signal,
      });
      report.restoreErrors = out.errors;
      for (const e of out.errors)
        logger[e.ignored ? 'info' : 'warning'](
          `pg_restore: ${e.message}${e.ignored ? ` (ignored: ${e.reason})` : ''}`,
        );
      const ignored = out.errors.length - out.unignored;
      check({
        name: 'pg_restore',
        group: 'restore',
        ok: out.unignored === 0,
        detail:
          out.unignored === 0
            ? `${out.tool}, ${out.format} format, ${out.compression ?? 'compression unknown'}, ${out.jobs} job(s), tier ${options.tier}${ignored ? `, ${ignored} error(s) ignored by ignore-restore-errors` : ', no errors'}`
            : `${out.unignored} pg_restore error(s) not covered by ignore-restore-errors; first: ${out.errors.find((e) => !e.ignored)?.message}`,
      });
      if (out.sequentialBecausePiped) {
        report.notes.push(
          'the dump was written to a pipe (no data offsets), so pg_restore ran with 1 job instead of --jobs',
        );
      }
      if (out.rolesCreated.length)
        report.notes.push(`created roles before restoring: ${out.rolesCreated.join(', ')}`);
      if (out.unignored > 0)
        throw new CheckFailed(`pg_restore reported ${out.unignored} error(s); see the report`);
    });

    // 4. migrate
    if (options.migrateCommand || options.postRestoreSql.length) {
      await phase('migrate', async () => {
        if (options.migrateCommand) {
          const r = await deps.runner.run('/bin/sh', ['-c', options.migrateCommand], {
            env: { ...process.env, ...targetEnv },
            cwd: options.appCwd,
            signal: deps.signal,
          });
          const tail = (r.stdout + '\n' + r.stderr).trim().split('\n').slice(-5).join(' | ');
          check({
            name: 'migrate-command',
            group: 'migrate',
            ok: r.code === 0,
            detail: r.code === 0 ? 'exit 0' : `exit ${r.code}: ${tail}`,
          });
          if (r.code !== 0) throw new CheckFailed(`migrate-command failed (exit ${r.code}): ${tail}`);
        }
        if (options.postRestoreSql.length) {
          if (!target)
            throw new ConfigError('post-restore-sql runs SQL, so it needs a PostgreSQL component and target');
          const client = await connectPg(target.url, 'target-url');
          try {
            for (const sql of await loadSql(options.postRestoreSql)) {
              try {
                await client.query(sql);
                check({ name: `post-restore-sql: ${sql.slice(0, 60)}`, group: 'migrate', ok: true });
              } catch (err) {
                check({
                  name: `post-restore-sql: ${sql.slice(0, 60)}`,
                  group: 'migrate',
                  ok: false,
                  detail: messageOf(err),
                });
                throw new CheckFailed(`post-restore-sql failed: ${messageOf(err)}`);
              }
            }
          } finally {
            await client.end().catch(() => undefined);
          }
        }
      });
    } else skip('migrate', 'no migrate-command or post-restore-sql');
    const restoredAtMs = clock.monotonicMs();
    if (kekCheckWanted(options)) {
      await phase('kek check', () =>
        runDrillKekCheck(
          deps,
          options,
          {
            targetUrl: target?.url ?? mongo!.targetUrl,
            workDir,
            extracted: verified.extracted,
            env: targetEnv,
          },
          check,
        ),
      );
    }

    // 5 + 6. boot the app and wait until healthy
    const checks: HealthCheck[] = [...parseHealthUrls(options.healthUrls)];
    if (options.healthChecksFile) checks.push(...(await loadHealthChecksFile(options.healthChecksFile)));
    if (options.appCommand) {
      await phase('app start', async () => {
        app = startApp(options.appCommand!, {
          env: { ...process.env, ...targetEnv, ...(secretsDir ? { DBDRILL_SECRETS_DIR: secretsDir } : {}) },
          cwd: options.appCwd,
          logger,
        });
        await new Promise((r) => setTimeout(r, 50));
        const alive = app.alive();
        if (alive !== true) throw new CheckFailed(`${alive} right after starting`);
      });
    } else skip('app start', 'no app-command');
    if (checks.length) {
      await phase('health', async () => {
        const results = await waitForHealthy(checks, {
          timeoutMs: options.healthTimeoutSeconds * 1000,
          clock,
          logger,
          signal: deps.signal,
          isAppAlive: app ? () => app!.alive() : undefined,
        });
        report.health = results;
        for (const h of results) {
          check({
            name: h.name,
            group: 'health',
            ok: h.ok,
            detail: h.ok ? `healthy after ${h.attempts} attempt(s)` : (h.lastError ?? 'not healthy'),
            seconds: h.seconds,
          });
        }
        const bad = results.filter((h) => !h.ok);
        if (bad.length)
          throw new CheckFailed(
            `health check(s) failed: ${bad.map((h) => `${h.name}: ${h.lastError}`).join('; ')}`,
          );
        healthyAtMs = clock.monotonicMs();
      });
    } else {
      skip('health', 'no health-urls or health-checks');
      if (app) {
        const alive = (app as AppProcess).alive();
        check({
          name: 'app running',
          group: 'health',
          ok: alive === true,
          detail: alive === true ? 'the app runs (no health checks given)' : alive,
        });
      }
      report.notes.push('no health checks: RTO is measured until the restore (and migrations) finished');
    }
    const rtoEnd = healthyAtMs ?? restoredAtMs;
    report.rtoSeconds = round((rtoEnd - t0) / 1000);

    // 7. structure and data checks
    await phase('checks', async () => {
      if (mongo) await checkMongoCounts(mongo, mongoRenames, options, check, report.counts, deps.label);
      if (!target) {
        const failed = report.checks.filter((c) => !c.ok && c.group === 'data');
        if (failed.length)
          throw new CheckFailed(
            `${failed.length} data check(s) failed: ${failed.map((c) => c.name).join(', ')}`,
          );
        return;
      }
      const client = await connectPg(target.url, 'target-url');
      try {
        report.structure = await checkStructure(client, toc, { schemaOnly: options.tier === 'schema' });
        for (const s of report.structure) {
          check({
            name: `structure: ${s.kind}`,
            group: 'structure',
            ok: s.missing.length === 0,
            detail: s.missing.length
              ? `${s.missing.length} missing: ${s.missing.slice(0, 10).join(', ')}`
              : `${s.actual} of ${s.expected} present`,
          });
        }
        if (options.tier !== 'schema') {
          const seq = await checkSequences(client);
          check({
            name: 'sequences at or above their columns',
            group: 'data',
            ok: seq.problems.length === 0,
            detail: seq.problems.length
              ? seq.problems
                  .map((p) => `${p.sequence} is at ${p.lastValue}, ${p.column} has ${p.maxValue}`)
                  .join('; ')
              : `${seq.checked} owned sequence(s) checked`,
          });
          let expectations = component
            ? manifestExpectations(component.tables)
            : Object.entries(verified.pgDump!.rows ?? {}).map(([name, rows]) => {
                const e = [...toc].find((x) => x.desc === 'TABLE DATA' && `${x.namespace}.${x.tag}` === name);
                return {
                  name,
                  schema: e?.namespace ?? name.split('.')[0],
                  table: e?.tag ?? name.split('.').slice(1).join('.'),
                  rows,
                };
              });
          if (options.tier === 'sample') {
            const wanted = new Set(options.sampleTables.map((t) => (t.includes('.') ? t : `public.${t}`)));
            expectations = expectations.filter((e) => wanted.has(e.name));
          }
          const counts = await compareCounts(client, expectations);
          report.counts.push(...counts);
          const wrong = counts.filter((c) => !c.ok);
          check({
            name: 'row counts equal the backup snapshot',
            group: 'data',
            ok: wrong.length === 0,
            detail: wrong.length
              ? wrong
                  .slice(0, 10)
                  .map((c) => `${c.name}: expected ${c.expected}, got ${c.actual}`)
                  .join('; ')
              : `${counts.length} table(s), ${counts.reduce((n, c) => n + (c.actual ?? 0), 0)} rows, all exact`,
          });
          if (options.compareUrl) {
            const prod = await connectPg(options.compareUrl, 'compare-url', {
              applicationName: 'dbdrill drill compare (read-only)',
            });
            try {
              await prod.query('SET default_transaction_read_only = on');
              const drift = await compareWithProduction(prod, counts, options.countTolerance);
              report.counts.push(...drift);
              check({
                name: 'row counts near production (compare-url)',
                group: 'data',
                ...describeDrift(drift, options.countTolerance, { things: 'table(s)', units: 'rows' }),
              });
            } finally {
              await prod.end().catch(() => undefined);
            }
          }
        } else {
          report.notes.push(
            'tier schema: data was not restored, so sequences and row counts are not checked',
          );
        }
        for (const a of await runAssertions(client, options.assertSql)) {
          check({ name: `assert-sql: ${a.sql.slice(0, 80)}`, group: 'data', ok: a.ok, detail: a.detail });
        }
      } finally {
        await client.end().catch(() => undefined);
      }
      for (const c of report.checks.filter((x) => x.group === 'structure' || x.group === 'data')) {
        logger.info(`[${c.ok ? ' ok ' : 'FAIL'}] ${c.name}: ${c.detail ?? ''}`);
      }
      const failed = report.checks.filter((c) => !c.ok && (c.group === 'structure' || c.group === 'data'));
      if (failed.length)
        throw new CheckFailed(
          `${failed.length} structure/data check(s) failed: ${failed.map((c) => c.name).join(', ')}`,
        );
    });

    // 8. objectives
    if (options.rpoSeconds !== undefined) {
      const ok = rpoSeconds !== undefined && rpoSeconds <= options.rpoSeconds;
      report.objectives.rpo = { budgetSeconds: options.rpoSeconds, actualSeconds: rpoSeconds, ok };
      check({
        name: 'RPO within budget',
        group: 'objective',
        ok,
        detail: `RPO ${rpoSeconds ?? 'unknown'} s, budget ${options.rpoSeconds} s`,
      });
    }
    if (options.rtoSeconds !== undefined) {
      const ok = report.rtoSeconds <= options.rtoSeconds;
      report.objectives.rto = { budgetSeconds: options.rtoSeconds, actualSeconds: report.rtoSeconds, ok };
      check({
        name: 'RTO within budget',
        group: 'objective',
        ok,
        detail: `RTO ${report.rtoSeconds} s, budget ${options.rtoSeconds} s`,
      });
    }
  } catch (err) {
    thrown = err;
    if (!(err instanceof CheckFailed) && !(err instanceof Cancelled) && !deps.signal?.aborted) {
      check({ name: 'drill ran to the end', group: 'drill', ok: false, detail: messageOf(err) });
    }
  } finally {
    if (app) {
      const a = app as AppProcess;
      const alive = a.alive();
      await a.stop();
      const failedRun = thrown !== undefined || report.checks.some((c) => !c.ok);
      if (failedRun || alive !== true) report.appLogTail = a.tail().slice(-100);
    }
    if (target) {
      if (options.keepTarget && !deps.signal?.aborted)
        report.notes.push(`keep-target: the scratch database was left running at ${target.display}`);
      else await target.teardown().catch((e) => logger.warning(`teardown failed: ${messageOf(e)}`));
    }
    await work?.remove().catch(() => undefined);
  }

  // the verdict
  const cancelled = !!deps.signal?.aborted || thrown instanceof Cancelled;
  const failedChecks = report.checks.filter((c) => !c.ok && !c.skipped);
  report.status = cancelled ? 'cancelled' : thrown || failedChecks.length ? 'failed' : 'passed';
  report.ok = report.status === 'passed';
  report.finishedAt = clock.now().toISOString();
  if (report.rpoSeconds !== undefined && !report.objectives.rpo && options.rpoSeconds !== undefined) {
    report.objectives.rpo = {
      budgetSeconds: options.rpoSeconds,
      actualSeconds: report.rpoSeconds,
      ok: report.rpoSeconds <= options.rpoSeconds,
    };
  }
  if (options.rtoSeconds !== undefined && !report.objectives.rto)
    report.objectives.rto = { budgetSeconds: options.rtoSeconds, ok: false };
  if (cancelled)
    report.notes.push(
      `cancelled by ${String(deps.signal?.reason ?? 'signal')}; the scratch target was torn down`,
    );

  const history = store && options.name ? await readHistory(store, options.name).catch(() => []) : [];
  if (history.length) report.history = history.slice(-HISTORY_KEEP);
  const written = await writeDrillReport(options.reportDir, report, { redact: deps.redact });
  if (store && options.name) {
    await appendHistory(store, options.name, toHistoryEntry(report)).catch((e) =>
      logger.warning(`could not append to the drill history: ${messageOf(e)}`),
    );
  }

  const result: DrillResult = {
    ok: report.ok,
    status: report.status,
    bundle: report.bundle,
    rtoSeconds: report.rtoSeconds ?? null,
    rpoSeconds: report.rpoSeconds ?? null,
    phases: report.phases.map((p) => ({ name: p.name, seconds: p.seconds, status: p.status })),
    counts: report.counts.map((c) => ({ name: c.name, expected: c.expected, actual: c.actual, ok: c.ok })),
    checks: {
      total: report.checks.length,
      failed: failedChecks.length,
      failures: failedChecks.map((c) => `${c.name}: ${c.detail ?? ''}`),
    },
    reportDir: options.reportDir,
    reportPath: written.json,
    report,
  };
  logger.info(
    `drill ${report.status}: RTO ${result.rtoSeconds ?? '-'} s, RPO ${result.rpoSeconds ?? '-'} s; report in ${options.reportDir}`,
  );
  if (thrown instanceof ConfigError) throw thrown;
  if (!report.ok) {
    const why = cancelled
      ? `drill cancelled by ${String(deps.signal?.reason ?? 'signal')}`
      : `drill failed: ${thrown ? messageOf(thrown) : result.checks.failures.slice(0, 3).join('; ')}`;
    throw new CheckFailed(why, result);
  }
  return result;
}

function majorOfVersion(version: string): number | undefined {
  const m = /^(\d+)/.exec(version);
  return m ? Number(m[1]) : undefined;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Cancelled(String(signal.reason ?? 'signal'));
}

function backupEndOf(v: VerifyResult, location: BundleLocation): Date | undefined {
  if (v.manifest) return new Date(v.manifest.endedAt);
  if (location.object?.modifiedAt) return location.object.modifiedAt;
  return v.pgDump?.report.header.createdAt;
}

async function newestThatVerifies(
  deps: DrillDeps,
  store: Store,
  options: DrillOptions,
  failedKey: string,
): Promise<string | undefined> {
  const bundles = (await listBundles(store, options.name!)).filter((b) => b.key !== failedKey).slice(0, 10);
  for (const b of bundles) {
    const r = await inspectBundle(
      deps,
      { store, key: b.key, display: b.key, object: b },
      { deep: false, pgBinDir: options.pgBinDir },
    );
    if (r.ok) return `${store.displayUri.replace(/\/$/, '')}/${b.key}`;
  }
  return undefined;
}

/**
 * Refuses the two restores that destroy data: into the backup's own source, and over a database
 * that already holds objects (unless clean, which drops them first).
 */
async function checkTargetSafety(
  t: ScratchTarget,
  component: PostgresComponent | undefined,
  clean: boolean,
  report: DrillReport,
  deps: DrillDeps,
): Promise<void> {
  const client = await connectPg(t.url, 'target-url');
  try {
    const info = await client.query<{ v: string; db: string }>(
      `SELECT current_setting('server_version') AS v, current_database() AS db`,
    );
    report.target!.serverVersion = info.rows[0].v.split(' ')[0];
    let sysid: string | null = null;
    try {
      sysid = (
        await client.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')
      ).rows[0].id;
    } catch {
      sysid = null;
    }
    if (component) {
      const sameDb = info.rows[0].db === component.database;
      const target = parsePgUrl(t.url, 'target-url');
      const sameCluster =
        sysid && component.systemIdentifier
          ? sysid === component.systemIdentifier
          : target.host === component.host && target.port === component.port;
      if (sameDb && sameCluster) {
        throw new ConfigError(
          `refusing to restore into the backup's own source: target-url is database "${component.database}" on the cluster that was backed up (system identifier ${component.systemIdentifier ?? 'unknown'}); point target-url at a scratch database or use provision: local`,
        );
      }
    }
    const objects = await client.query<{ n: string }>(`
      SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%')
           + (SELECT count(*) FROM pg_largeobject_metadata) AS n`);
    const n = Number(objects.rows[0].n);
    if (n > 0) {
      if (!clean) {
        throw new ConfigError(
          `target-url database "${info.rows[0].db}" is not empty (${n} object(s)); restore into an empty scratch database, or set clean: true to drop its contents first`,
        );
      }
      deps.logger.warning(
        `clean: dropping ${n} object(s) in ${describeTarget(parsePgUrl(t.url, 'target-url'))}`,
      );
      const schemas = await client.query<{ nspname: string }>(
        `SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%'`,
      );
      for (const s of schemas.rows) await client.query(`DROP SCHEMA ${quoteIdent(s.nspname)} CASCADE`);
      await client.query('CREATE SCHEMA IF NOT EXISTS public');
      await client.query('SELECT lo_unlink(oid) FROM pg_largeobject_metadata');
      report.notes.push(`clean: dropped ${n} existing object(s) in the target before restoring`);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function loadSql(items: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const item of items) {
    if (item.startsWith('@')) {
      const path = item.slice(1);
      const info = await stat(path).catch(() => undefined);
      if (!info) throw new ConfigError(`post-restore-sql: file "${path}" does not exist`);
      if (info.isDirectory()) {
        for (const f of (await readdir(path)).filter((x) => x.endsWith('.sql')).sort()) {
          out.push(await readFile(join(path, f), 'utf8'));
        }
      } else out.push(await readFile(path, 'utf8'));
    } else out.push(item);
  }
  return out;
}

async function readHistory(store: Store, name: string): Promise<HistoryEntry[]> {
  const text = await store.readText(name + HISTORY_SUFFIX);
  if (!text) return [];
  const out: HistoryEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as HistoryEntry);
    } catch {
      /* a torn line from a crashed writer is skipped, not fatal */
    }
  }
  return out;
}

async function appendHistory(store: Store, name: string, entry: HistoryEntry): Promise<void> {
  const current = (await store.readText(name + HISTORY_SUFFIX)) ?? '';
  const lines = current.split('\n').filter((l) => l.trim());
  lines.push(JSON.stringify(entry));
  await store.writeText(name + HISTORY_SUFFIX, lines.slice(-500).join('\n') + '\n');
}
