/**
 * The restore drill: fetch and verify the newest recovery point, restore it into a scratch
 * database, migrate, boot the app on it, prove it healthy, compare structure and counts, and time
 * every phase. Whatever happens, what dbdrill started is stopped and a report is written.
 *
 * This file only runs the phases and decides the verdict. Each engine's half (target safety,
 * restore, checks) lives in `engines/<engine>/`; the engine-neutral phases in `drill/`.
 */
import { join } from 'node:path';

import type { AppProcess } from './app-process.js';
import { appendDrillHistory, readDrillHistory } from './catalog/index.js';
import { bootApp, migrate, waitUntilHealthy } from './drill/app-phases.js';
import { EarlyTarget } from './drill/early-target.js';
import { fetchAndVerify } from './drill/fetch.js';
import { DrillRecorder, roundSeconds } from './drill/recorder.js';
import { prepareDrillSecrets, runDrillKekCheck } from './drill/secrets.js';
import {
  checkObjectives,
  decideVerdict,
  recordUnexpected,
  throwUnlessPassed,
  toDrillResult,
  type DrillResult,
} from './drill/verdict.js';
import { decryptHook } from './encryption.js';
import type {
  EngineDrill,
  EngineDrillContext,
  PostgresTargetRequest,
  ScratchTarget,
} from './engines/engine.js';
import { ENGINES } from './engines/registry.js';
import { CheckFailed, ConfigError, messageOf } from './errors.js';
import type { UseCaseDeps } from './deps.js';
import type { VerifyResult } from './inspection/index.js';
import { kekCheckWanted } from './kek.js';
import type { DrillOptions } from './options/index.js';
import { provisionTarget } from './provision/target.js';
import { toHistoryEntry, type DrillTarget } from './report/model.js';
import { writeDrillReport } from './report/write.js';
import type { Store } from './stores/store.js';
import { makeWorkDir } from './work-dir.js';

export type { DrillResult } from './drill/verdict.js';

export type DrillDeps = UseCaseDeps;

/** The report's history keeps the last drills; the store's history file keeps more. */
const HISTORY_IN_REPORT = 20;

/** What the drill started, so the end can stop it whichever phase threw. */
interface Started {
  drills: EngineDrill[];
  app?: AppProcess;
  work?: Awaited<ReturnType<typeof makeWorkDir>>;
  store?: Store;
  /** A scratch target started during fetch + verify, until the provision phase adopts it. */
  early?: EarlyTarget;
}

export async function drill(deps: DrillDeps, options: DrillOptions): Promise<DrillResult> {
  if (!deps.decrypt) deps = { ...deps, decrypt: await decryptHook(deps.logger, options, deps.label) };
  const recorder = new DrillRecorder(deps, options.name);
  const started: Started = { drills: [] };
  let thrown: unknown;
  try {
    await runPhases(deps, options, recorder, started);
  } catch (err) {
    thrown = err;
    recordUnexpected(recorder, err, deps.signal);
  } finally {
    await stopEverything(deps, options, recorder, started, thrown);
  }

  const { cancelled } = decideVerdict(recorder, options, deps.clock.now(), { thrown, signal: deps.signal });
  const { report } = recorder;
  const { store } = started;
  const historyName = options.historyName ?? options.name;
  const history = store && historyName ? await readDrillHistory(store, historyName).catch(() => []) : [];
  if (history.length) report.history = history.slice(-HISTORY_IN_REPORT);
  const written = await writeDrillReport(options.reportDir, report, { redact: deps.redact });
  // A usage error (a store that does not exist, a bad option) is no drill to chart, and appending
  // would create the store the user mistyped.
  if (store && historyName && !(thrown instanceof ConfigError)) {
    await appendDrillHistory(store, historyName, toHistoryEntry(report)).catch((e) =>
      deps.logger.warning(`could not append to the drill history: ${messageOf(e)}`),
    );
  }
  const result = toDrillResult(report, options.reportDir, written.json);
  deps.logger.info(
    `drill ${report.status}: RTO ${result.rtoSeconds === null ? 'not measured' : `${result.rtoSeconds} s`}, ` +
      `RPO ${result.rpoSeconds === null ? 'unknown' : `${result.rpoSeconds} s`}; report in ${options.reportDir}`,
  );
  if (report.error)
    deps.logger.info(
      `drill stopped in ${report.error.phase}: ${report.error.message}${report.error.hint ? `\n  next: ${report.error.hint}` : ''}`,
    );
  throwUnlessPassed(result, { thrown, cancelled, signal: deps.signal });
  return result;
}

/** The phases in order; the first that throws ends the drill (the checks it recorded remain). */
async function runPhases(
  deps: DrillDeps,
  options: DrillOptions,
  recorder: DrillRecorder,
  started: Started,
): Promise<void> {
  const { report } = recorder;
  started.work = await makeWorkDir('drill');
  const workDir = started.work.dir;
  started.store = options.bundle ? undefined : deps.openStore(options.store!);

  // 1. fetch + verify, in one streaming pass that also extracts the dumps and the secret store;
  // a throwaway target starts meanwhile, as soon as the manifest says what it needs
  if (!options.targetUrl && options.provision)
    started.early = new EarlyTarget(
      (request, signal) => provisionFor(deps, options, request, signal),
      deps.logger,
      deps.signal,
      options.component,
    );
  const early = started.early;
  const { verified, backupEnd } = await fetchAndVerify(
    deps,
    options,
    started.store,
    recorder,
    workDir,
    early && ((m) => early.onManifest(m)),
  );
  report.bundleCreatedAt = backupEnd?.toISOString();
  if (backupEnd)
    report.rpoSeconds = roundSeconds((recorder.startedAt.getTime() - backupEnd.getTime()) / 1000);
  started.drills = planEngines(deps, options, recorder, verified, workDir, early);
  const drills = started.drills;

  // 2. provision: a scratch target per engine, refusing the source and non-empty databases
  await recorder.phase('provision', async () => {
    const targets: DrillTarget[] = [];
    for (const [i, d] of drills.entries()) {
      await d.prepareTarget((t) => {
        if (!targets[i]) deps.logger.info(`${d.engine} target: ${t.display}`);
        targets[i] = t;
        report.target = { ...targets[0], display: targets.map((x) => x.display).join(' + ') };
      });
    }
    const version = report.target?.serverVersion ? `, server ${report.target.serverVersion}` : '';
    recorder.describe(
      'provision',
      `${report.target?.kind ?? 'target'} ${report.target?.display ?? ''}${version}`,
    );
  });
  const secretsDir = secretsDirOf(verified, workDir);
  const env: NodeJS.ProcessEnv = {
    ...Object.assign({}, ...drills.map((d) => d.appEnv())),
    DATABASE_URL: drills[0].targetUrl(),
    // Masks the restored secret values; with secrets-env, their .env variables join the app's and migrate-command's env.
    ...(await prepareDrillSecrets(deps.logger, options, secretsDir, report.notes)),
  };

  // 3. restore
  await recorder.phase('restore', async () => {
    for (const d of drills) await d.restore();
  });

  // 4. migrate, and pair the restored KEK with the restored database
  if (options.migrateCommand || options.postRestoreSql.length) {
    await recorder.phase('migrate', () => migrate(deps, recorder, options, env, drills));
  } else recorder.skip('migrate', 'no migrate-command or post-restore-sql');
  const restoredAtMs = deps.clock.monotonicMs();
  if (kekCheckWanted(options)) {
    const kek = { targetUrl: drills[0].targetUrl(), workDir, extracted: verified.extracted, env };
    await recorder.phase('kek check', () => runDrillKekCheck(deps, options, kek, recorder.check));
  }

  // 5 + 6. boot the app and wait until healthy: RTO ends here
  const checks = options.healthChecks;
  const appEnv = { ...env, ...(secretsDir ? { DBDRILL_SECRETS_DIR: secretsDir } : {}) };
  await bootApp(deps, recorder, options, appEnv, (app) => (started.app = app));
  const healthyAtMs = await waitUntilHealthy(
    deps,
    recorder,
    checks,
    options.healthTimeoutSeconds,
    started.app,
  );
  report.rtoSeconds = recorder.secondsSince(recorder.t0, healthyAtMs ?? restoredAtMs);

  // 7. structure and data checks, every engine's before judging them
  await recorder.phase('checks', async () => {
    for (const d of drills) await d.checkRestored();
    const judged = report.checks.filter((c) => c.group === 'structure' || c.group === 'data');
    for (const c of judged) deps.logger.info(`[${c.ok ? ' ok ' : 'FAIL'}] ${c.name}: ${c.detail ?? ''}`);
    const failed = judged.filter((c) => !c.ok);
    if (failed.length)
      throw new CheckFailed(
        `${failed.length} structure/data check(s) failed: ${failed.map((c) => c.name).join(', ')}`,
      );
  });

  // 8. objectives
  checkObjectives(recorder, options);
}

/** Each engine whose dump the bundle holds; a bundle with none has nothing to drill. */
function planEngines(
  deps: DrillDeps,
  options: DrillOptions,
  recorder: DrillRecorder,
  verified: VerifyResult,
  workDir: string,
  early: EarlyTarget | undefined,
): EngineDrill[] {
  const context: EngineDrillContext = {
    deps: {
      ...deps,
      provisionPostgres: (request) =>
        early?.take(request) ?? provisionFor(deps, options, request, deps.signal),
    },
    ledger: recorder,
    workDir,
  };
  const drills = (deps.engines ?? ENGINES)
    .map((e) => e.planDrill(verified, options, context))
    .filter((d): d is EngineDrill => d !== undefined);
  if (!drills.length) throw new CheckFailed('the bundle holds no database dump to restore');
  return drills;
}

function provisionFor(
  deps: DrillDeps,
  options: DrillOptions,
  request: PostgresTargetRequest,
  signal: AbortSignal | undefined,
): Promise<ScratchTarget> {
  return provisionTarget(deps, {
    ...request,
    targetUrl: options.targetUrl,
    provision: options.provision,
    pgVersion: options.pgVersion,
    image: options.image,
    pgBinDir: options.pgBinDir,
    searchRoots: deps.searchRoots,
    signal,
  });
}

function secretsDirOf(verified: VerifyResult, workDir: string): string | undefined {
  const hasSecrets = Object.keys(verified.extracted ?? {}).some((m) => m.startsWith('secrets/'));
  return hasSecrets ? join(workDir, 'bundle', 'secrets') : undefined;
}

/** The app first (it holds connections), then every target, then the work directory. */
async function stopEverything(
  deps: DrillDeps,
  options: DrillOptions,
  recorder: DrillRecorder,
  started: Started,
  thrown: unknown,
): Promise<void> {
  const { app } = started;
  if (app) {
    const alive = app.alive();
    await app.stop();
    const failedRun = thrown !== undefined || recorder.report.checks.some((c) => !c.ok);
    if (failedRun || alive !== true) recorder.report.appLogTail = app.tail().slice(-100);
  }
  const keep = options.keepTarget && !deps.signal?.aborted;
  // Independent removals (a scratch cluster's data directory, the extracted bundle) run at once.
  await Promise.all([
    ...started.drills.map((d) => d.teardown(keep)),
    started.early?.discard(),
    started.work?.remove().catch(() => undefined),
  ]);
}
