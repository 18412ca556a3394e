/**
 * The engine-neutral phases of a drill, after the restore: migrate (the user's command, then
 * post-restore SQL through the engine that takes SQL), boot the app on the restored data, and
 * wait until its health checks pass. RTO ends at healthy.
 */
import { startApp, type AppProcess } from '../app-process.js';
import { waitForHealthy, type HealthCheck } from '../checks/health.js';
import type { Clock } from '../clock.js';
import type { EngineDrill } from '../engines/engine.js';
import { CheckFailed, ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DrillOptions } from '../options/index.js';
import type { ProcessRunner } from '../process.js';
import type { DrillRecorder } from './recorder.js';

interface PhaseDeps {
  runner: ProcessRunner;
  logger: Logger;
  clock: Clock;
  signal?: AbortSignal;
}

/** The user's migrate-command, then post-restore SQL; a failure of either fails the drill. */
export async function migrate(
  deps: PhaseDeps,
  recorder: DrillRecorder,
  options: Pick<DrillOptions, 'migrateCommand' | 'appCwd' | 'postRestoreSql'>,
  env: NodeJS.ProcessEnv,
  drills: EngineDrill[],
): Promise<void> {
  if (options.migrateCommand) {
    const r = await deps.runner.run('/bin/sh', ['-c', options.migrateCommand], {
      env: { ...process.env, ...env },
      cwd: options.appCwd,
      signal: deps.signal,
    });
    const tail = (r.stdout + '\n' + r.stderr).trim().split('\n').slice(-5).join(' | ');
    recorder.check({
      name: 'migrate-command',
      group: 'migrate',
      ok: r.code === 0,
      detail: r.code === 0 ? 'exit 0' : `exit ${r.code}: ${tail}`,
    });
    if (r.code !== 0) throw new CheckFailed(`migrate-command failed (exit ${r.code}): ${tail}`);
  }
  if (options.postRestoreSql.length) {
    const sqlEngine = drills.find((d) => d.runSql);
    if (!sqlEngine?.runSql)
      throw new ConfigError('post-restore-sql runs SQL, so it needs a PostgreSQL component and target');
    await sqlEngine.runSql(options.postRestoreSql);
  }
}

/**
 * Starts the app and hands it to `started` at once, so the drill stops it whatever happens
 * next; an app that dies right away fails here rather than at a health timeout.
 */
export async function bootApp(
  deps: PhaseDeps,
  recorder: DrillRecorder,
  options: Pick<DrillOptions, 'appCommand' | 'appCwd'>,
  env: NodeJS.ProcessEnv,
  started: (app: AppProcess) => void,
): Promise<void> {
  if (!options.appCommand) return recorder.skip('app start', 'no app-command');
  const command = options.appCommand;
  await recorder.phase('app start', async () => {
    const app = startApp(command, {
      env: { ...process.env, ...env },
      cwd: options.appCwd,
      logger: deps.logger,
    });
    started(app);
    await new Promise((r) => setTimeout(r, 50));
    const alive = app.alive();
    if (alive !== true) throw new CheckFailed(`${alive} right after starting`);
  });
}

/**
 * Polls every health check until all pass; returns the monotonic instant they did. Without
 * checks, a running app is all that can be said, and RTO ends at the restore.
 */
export async function waitUntilHealthy(
  deps: PhaseDeps,
  recorder: DrillRecorder,
  checks: HealthCheck[],
  timeoutSeconds: number,
  app: AppProcess | undefined,
): Promise<number | undefined> {
  if (!checks.length) {
    recorder.skip('health', 'no health-urls or health-checks');
    if (app) {
      const alive = app.alive();
      recorder.check({
        name: 'app running',
        group: 'health',
        ok: alive === true,
        detail: alive === true ? 'the app runs (no health checks given)' : alive,
      });
    }
    recorder.report.notes.push(
      'no health checks: RTO is measured until the restore (and migrations) finished',
    );
    return undefined;
  }
  return recorder.phase('health', async () => {
    const results = await waitForHealthy(checks, {
      timeoutMs: timeoutSeconds * 1000,
      clock: deps.clock,
      logger: deps.logger,
      signal: deps.signal,
      isAppAlive: app ? () => app.alive() : undefined,
    });
    recorder.report.health = results;
    for (const h of results) {
      recorder.check({
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
    return deps.clock.monotonicMs();
  });
}
