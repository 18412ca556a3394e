export const id = 295;
export const ids = [295];
export const modules = {

/***/ 93295:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  drill: () => (/* binding */ drill)
});

// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
// EXTERNAL MODULE: ./build/ncc-src/src/core/catalog/index.js + 6 modules
var catalog = __webpack_require__(39100);
// EXTERNAL MODULE: ./build/ncc-src/src/core/process.js
var core_process = __webpack_require__(48364);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/app-process.js

function startApp(command, options) {
    const max = options.tailLines ?? 200;
    const lines = [];
    const partial = { out: '', err: '' };
    const push = (stream, chunk) => {
        const text = partial[stream] + chunk;
        const parts = text.split(/\r?\n/);
        partial[stream] = parts.pop() ?? '';
        for (const p of parts) {
            lines.push(p);
            if (lines.length > max)
                lines.shift();
        }
    };
    options.logger.info(`starting the app: ${command}`);
    const runner = options.runner ?? new core_process/* NodeProcessRunner */.u(options.logger);
    const child = runner.spawn('/bin/sh', ['-c', command], {
        env: options.env,
        cwd: options.cwd,
        processGroup: true,
        quiet: true,
    });
    let exit;
    child.stdout.setEncoding('utf8').on('data', (d) => push('out', d));
    child.stderr.setEncoding('utf8').on('data', (d) => push('err', d));
    const exited = child.exited.then(({ code, signal, error }) => {
        exit = error
            ? `could not start: ${error.message}`
            : signal
                ? `was killed by ${signal}`
                : `exited with code ${code}`;
    });
    return {
        pid: child.pid,
        alive: () => (exit === undefined ? true : `the app ${exit}`),
        tail: () => [...lines, ...(partial.out ? [partial.out] : []), ...(partial.err ? [partial.err] : [])],
        async stop() {
            if (exit === undefined) {
                child.kill('SIGTERM');
                const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
                await exited;
                clearTimeout(timer);
            }
            // children that ignored SIGTERM or were orphaned in the group
            child.kill('SIGKILL');
        },
    };
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/checks/health.js + 1 modules
var health = __webpack_require__(11627);
// EXTERNAL MODULE: ./build/ncc-src/src/core/errors.js
var errors = __webpack_require__(1454);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/drill/app-phases.js
/**
 * The engine-neutral phases of a drill, after the restore: migrate (the user's command, then
 * post-restore SQL through the engine that takes SQL), boot the app on the restored data, and
 * wait until its health checks pass. RTO ends at healthy.
 */



/** The user's migrate-command, then post-restore SQL; a failure of either fails the drill. */
async function migrate(deps, recorder, options, env, drills) {
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
        if (r.code !== 0)
            throw new errors/* CheckFailed */.EC(`migrate-command failed (exit ${r.code}): ${tail}`);
    }
    if (options.postRestoreSql.length) {
        const sqlEngine = drills.find((d) => d.runSql);
        if (!sqlEngine?.runSql)
            throw new errors/* ConfigError */.xL('post-restore-sql runs SQL, so it needs a PostgreSQL component and target');
        await sqlEngine.runSql(options.postRestoreSql);
    }
}
/**
 * Starts the app and hands it to `started` at once, so the drill stops it whatever happens
 * next; an app that dies right away fails here rather than at a health timeout.
 */
async function bootApp(deps, recorder, options, env, started) {
    if (!options.appCommand)
        return recorder.skip('app start', 'no app-command');
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
        if (alive !== true)
            throw new errors/* CheckFailed */.EC(`${alive} right after starting`);
    });
}
/**
 * Polls every health check until all pass; returns the monotonic instant they did. Without
 * checks, a running app is all that can be said, and RTO ends at the restore.
 */
async function waitUntilHealthy(deps, recorder, checks, timeoutSeconds, app) {
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
        recorder.report.notes.push('no health checks: RTO is measured until the restore (and migrations) finished');
        return undefined;
    }
    return recorder.phase('health', async () => {
        const results = await (0,health/* waitForHealthy */.SE)(checks, {
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
            throw new errors/* CheckFailed */.EC(`health check(s) failed: ${bad.map((h) => `${h.name}: ${h.lastError}`).join('; ')}`);
        return deps.clock.monotonicMs();
    });
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/drill/early-target.js
class EarlyTarget {
    provision;
    logger;
    signal;
    componentId;
    started;
    adopted = false;
    cancel = new AbortController();
    /**
     * `provision` starts a target for a request with the given signal (the drill's, joined with
     * this object's own, which `discard` aborts).
     */
    constructor(provision, logger, signal, 
    /** The component the drill restores (a fleet member of a joint bundle); absent: the first PostgreSQL one. */
    componentId) {
        this.provision = provision;
        this.logger = logger;
        this.signal = signal;
        this.componentId = componentId;
    }
    /**
     * Called with the bundle's valid manifest, before the rest of the bundle is read. Starts only
     * when the request is fully known from the manifest: a component without a recorded locale gets
     * its locale from the dump's TOC later, so it is provisioned in the provision phase as before.
     */
    onManifest(manifest) {
        if (this.started)
            return;
        const c = manifest.components.find((x) => x.engine === 'postgres' && (this.componentId === undefined || x.id === this.componentId));
        if (!c?.locale)
            return;
        const request = requestOf(c);
        const signal = this.signal ? AbortSignal.any([this.signal, this.cancel.signal]) : this.cancel.signal;
        this.logger.info('starting the scratch PostgreSQL target while the bundle is verified');
        const target = this.provision(request, signal);
        // A failure surfaces when the provision phase adopts the target; a discarded one is moot.
        target.catch(() => undefined);
        this.started = { key: keyOf(request), target };
    }
    /** The early target when it was started for exactly this request; undefined otherwise. */
    take(request) {
        if (!this.started || this.adopted || this.started.key !== keyOf(request))
            return undefined;
        this.adopted = true;
        return this.started.target;
    }
    /** Stops a target that was started but never adopted. Never throws. */
    async discard() {
        if (!this.started || this.adopted)
            return;
        this.cancel.abort();
        const t = await this.started.target.catch(() => undefined);
        await t?.teardown().catch((e) => this.logger.warning(`teardown failed: ${String(e)}`));
    }
}
/** What the PostgreSQL drill asks for when the manifest records the component's locale. */
function requestOf(c) {
    return { database: c.database, sourceMajor: Math.floor(c.serverVersionNum / 10000), locale: c.locale };
}
function keyOf(r) {
    return JSON.stringify([r.database, r.sourceMajor ?? null, r.locale ?? null]);
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/engines/registry.js + 36 modules
var registry = __webpack_require__(50305);
// EXTERNAL MODULE: ./build/ncc-src/src/core/inspection/index.js + 9 modules
var inspection = __webpack_require__(69856);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/drill/fetch.js
/**
 * The drill's first phase: find the bundle, and fetch and verify it in one streaming pass that
 * also extracts the dumps and the secret store into the work directory. A bundle that fails
 * verification is never restored; the failure names the newest one that does verify.
 */





/**
 * `store` is set when the bundle is chosen by name (the newest in it), undefined when `bundle`
 * names one. Resolving happens before the phase starts: "no bundle" fails without a phase.
 */
async function fetchAndVerify(deps, options, store, recorder, workDir, onManifest) {
    const location = store
        ? options.bundleKey
            ? { store, key: options.bundleKey, display: (0,catalog/* displayOf */.E3)(store, options.bundleKey) }
            : await (0,catalog/* resolveNewest */.zz)(store, options.name)
        : (0,catalog/* locateBundle */.$G)(deps, options.bundle);
    recorder.report.bundle = location.display;
    const verified = await recorder.phase('fetch + verify', async () => {
        const r = await (0,inspection/* inspectBundle */.rI)(deps, location, {
            deep: false,
            deepForBareDumps: true,
            pgBinDir: options.pgBinDir,
            pgClient: options.pgClient,
            extractTo: (0,external_node_path_.join)(workDir, 'bundle'),
            onManifest,
        });
        for (const l of r.layers) {
            recorder.check({
                name: l.name,
                group: 'verify',
                ok: l.ok || !!l.skipped,
                skipped: l.skipped,
                detail: l.detail,
            });
            deps.logger.info(`[${l.skipped ? 'skip' : l.ok ? ' ok ' : 'FAIL'}] ${l.name}: ${l.detail}`);
        }
        // no verdict on the bundle: searching for an older one would only fill the disk again
        if (r.inconclusive)
            throw new errors/* EnvironmentFault */.kS(`the bundle ${location.display} could not be fetched: ${r.inconclusive}`);
        if (!r.ok) {
            const good = store
                ? await (0,catalog/* newestThatVerifies */.zi)(deps, store, options.name, {
                    exceptKey: location.key,
                    pgBinDir: options.pgBinDir,
                    pgClient: options.pgClient,
                })
                : undefined;
            throw new errors/* CheckFailed */.EC(`the bundle ${location.display} failed verification (${r.problems.join('; ')})` +
                (good
                    ? `; the newest bundle that verifies is ${good}: pass it as bundle to drill it`
                    : store
                        ? '; no older bundle of this name verifies either'
                        : ''));
        }
        recordProvenance(recorder, r, deps.engines ?? registry/* ENGINES */.u, options.component);
        return r;
    });
    return { location, verified, backupEnd: backupEndOf(verified, location) };
}
/** The manifest knows; a bare dump file falls back to its upload time, then its own header. */
function backupEndOf(v, location) {
    if (v.manifest)
        return new Date(v.manifest.endedAt);
    if (location.object?.modifiedAt)
        return location.object.modifiedAt;
    return v.pgDump?.report.header.createdAt;
}
/**
 * The bundle's full hash and the sources it was taken from: what an auditor matches a drill to.
 * Each engine restores its first component (or the fleet member's `component`), so a joint
 * bundle names every database it brings back, not only the first one in the manifest.
 */
function recordProvenance(recorder, v, engines, component) {
    const { report } = recorder;
    if (v.sha256)
        report.bundleSha256 = v.sha256;
    const components = v.manifest?.components ?? [];
    const sources = engines.flatMap((engine) => {
        const own = components.filter((c) => c.engine === engine.name);
        const restored = component === undefined ? own[0] : own.find((c) => c.id === component);
        return restored ? [engine.describeSource(restored)] : [];
    });
    if (!sources.length && v.pgDump) {
        const h = v.pgDump.report.header;
        sources.push({ engine: 'postgres', database: h.database, serverVersion: h.serverVersion });
    }
    report.source = sources[0];
    if (sources.length > 1)
        report.sources = sources;
}

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(48161);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/report/model.js
/**
 * The drill report, version 1. This is a published format (auditors archive it, dashboards
 * read it): new optional keys may be added without a version bump and readers must ignore
 * keys they do not know; removing or retyping a key bumps `schemaVersion`.
 */
const DRILL_REPORT_SCHEMA_VERSION = 1;
/** The line this drill adds to the history that the next drill's report charts. */
function toHistoryEntry(report) {
    return {
        startedAt: report.startedAt,
        rtoSeconds: report.rtoSeconds ?? null,
        rpoSeconds: report.rpoSeconds ?? null,
        status: report.status,
    };
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/version.js
var version = __webpack_require__(45545);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/drill/recorder.js
/**
 * The drill's running record: the report being filled in, each phase timed on the monotonic
 * clock (wall time jumps), every check by name. A phase that throws is marked failed (or
 * cancelled) with its reason before the error travels on, so the report says where it stopped.
 */




/** Seconds with millisecond precision, as the report carries them. */
const roundSeconds = (n) => Math.round(n * 1000) / 1000;
class DrillRecorder {
    deps;
    report;
    startedAt;
    /** The monotonic instant the drill started: RTO counts from here. */
    t0;
    /**
     * Where the drill is: the phase running, or the step between phases. A failure outside any
     * phase (no bundle, a store that does not exist) is reported as stopping here.
     */
    stage = 'locate bundle';
    constructor(deps, name) {
        this.deps = deps;
        this.startedAt = deps.clock.now();
        this.t0 = deps.clock.monotonicMs();
        this.report = {
            schemaVersion: DRILL_REPORT_SCHEMA_VERSION,
            tool: { name: 'dbdrill', version: version/* DBDRILL_VERSION */.P },
            status: 'failed',
            ok: false,
            name,
            runner: {
                host: (0,external_node_os_.hostname)(),
                platform: `${process.platform}-${process.arch}`,
                node: process.versions.node,
            },
            startedAt: this.startedAt.toISOString(),
            finishedAt: this.startedAt.toISOString(),
            objectives: {},
            phases: [],
            checks: [],
            counts: [],
            restoreErrors: [],
            health: [],
            notes: [],
        };
    }
    check = (c) => {
        this.report.checks.push(c);
    };
    /** Seconds since the drill started, on the monotonic clock. */
    secondsSince(startMs, endMs = this.deps.clock.monotonicMs()) {
        return roundSeconds((endMs - startMs) / 1000);
    }
    async phase(name, fn) {
        const { clock, logger, signal } = this.deps;
        const begin = clock.monotonicMs();
        const entry = { name, startedAt: clock.now().toISOString(), seconds: 0, status: 'ok' };
        this.report.phases.push(entry);
        this.stage = name;
        logger.startGroup(`drill: ${name}`);
        const checksBefore = this.report.checks.length;
        try {
            (0,errors/* throwIfCancelled */.dZ)(signal);
            const out = await fn();
            (0,errors/* throwIfCancelled */.dZ)(signal);
            entry.detail ??= summarizeChecks(this.report.checks.slice(checksBefore));
            return out;
        }
        catch (err) {
            entry.status = signal?.aborted ? 'cancelled' : 'failed';
            entry.detail = entry.detail ? `${entry.detail}; ${(0,errors/* messageOf */.bD)(err)}` : (0,errors/* messageOf */.bD)(err);
            throw err;
        }
        finally {
            entry.seconds = this.secondsSince(begin);
            logger.endGroup();
        }
    }
    /**
     * What a phase did, shown in the report's phase table (e.g. restore: jobs, entries, errors
     * ignored). Called while the phase runs; a later failure appends its reason.
     */
    describe(name, detail) {
        const entry = [...this.report.phases].reverse().find((p) => p.name === name);
        if (entry)
            entry.detail = entry.detail ? `${entry.detail}; ${detail}` : detail;
    }
    /** A phase the options leave out still appears in the report, with why. */
    skip(name, detail) {
        this.report.phases.push({
            name,
            startedAt: this.deps.clock.now().toISOString(),
            seconds: 0,
            status: 'skipped',
            detail,
        });
    }
}
/**
 * A phase's default detail: what its checks said. One check is shown as it is (pg_restore's
 * jobs, entries and ignored errors); several are counted, naming the first that failed.
 */
function summarizeChecks(checks) {
    if (!checks.length)
        return undefined;
    if (checks.length === 1)
        return `${checks[0].name}: ${checks[0].detail ?? (checks[0].ok ? 'ok' : 'failed')}`;
    const failed = checks.filter((c) => !c.ok && !c.skipped);
    const skipped = checks.filter((c) => c.skipped).length;
    const ran = checks.length - skipped;
    return (`${ran - failed.length}/${ran} check(s) passed` +
        (skipped ? `, ${skipped} skipped` : '') +
        (failed.length ? `; first failure: ${failed[0].name}` : ''));
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/encryption.js + 1 modules
var encryption = __webpack_require__(77863);
// EXTERNAL MODULE: ./build/ncc-src/src/core/kek.js
var kek = __webpack_require__(95872);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/drill/secrets.js
/**
 * The restored secret store in a drill, used twice: once it is extracted (mask its values, load
 * `.env` files for the app), and once the database is restored and migrated (the KEK pairing
 * check against the restored database, group `kek`): data without its key is not a recovery.
 */




const KEK_CHECK_NAME = 'KEK fingerprint matches the database';
/**
 * Registers every restored secret value with the redactor (before the app or a migration can
 * print one) and, with secrets-env, returns the `.env` variables for the app's environment.
 */
async function prepareDrillSecrets(logger, options, secretsDir, notes) {
    if (secretsDir)
        await (0,encryption/* registerSecretValues */.om)(logger, await (0,encryption/* secretFilesUnder */.wK)(secretsDir));
    if (!options.secretsEnv)
        return {};
    if (!secretsDir) {
        notes.push('secrets-env: the bundle holds no secret store, so no .env file was loaded');
        return {};
    }
    const loaded = await (0,encryption/* loadSecretsEnv */.z9)(logger, secretsDir);
    notes.push(...loaded.notes);
    for (const n of loaded.notes)
        logger.info(n);
    return loaded.env;
}
/**
 * Compares the restored database's KEK fingerprint with the restored KEK file. Always records a
 * `kek` check; throws CheckFailed when they do not pair or the check could not run (could not
 * check is never a pass).
 */
async function runDrillKekCheck(deps, options, ctx, check) {
    const label = deps.label ?? ((n) => n);
    const members = Object.keys(ctx.extracted ?? {}).filter((m) => m.startsWith('secrets/'));
    try {
        if (members.length === 0) {
            throw new errors/* CheckFailed */.EC('the bundle holds no secret store, so the KEK the database expects cannot be paired; back up the KEK with secret-files');
        }
        const member = (0,kek/* resolveKekMember */.O$)(members, options.kekFile, label('kek-file'));
        const r = await (0,kek/* checkKekPairing */.Cm)(deps, {
            ...options,
            databaseUrl: ctx.targetUrl,
            urlInput: 'target-url',
            kekPath: ctx.extracted[`secrets/${member}`],
            kekMember: member,
            secretsDir: (0,external_node_path_.join)(ctx.workDir, 'bundle', 'secrets'),
            env: ctx.env,
        });
        check({ name: KEK_CHECK_NAME, group: 'kek', ok: r.ok, detail: r.detail });
        deps.logger.info(`KEK check: ${r.detail}`);
        if (!r.ok)
            throw new errors/* CheckFailed */.EC(r.detail);
    }
    catch (err) {
        if (!(err instanceof errors/* CheckFailed */.EC && /^KEK fingerprint mismatch/.test(err.message))) {
            check({ name: KEK_CHECK_NAME, group: 'kek', ok: false, detail: `could not check: ${(0,errors/* messageOf */.bD)(err)}` });
        }
        throw err;
    }
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/drill/failure.js
/**
 * The one-line "why" of a drill that did not pass. Readers of a red drill (a job summary, a
 * JUnit viewer, a dashboard reading the JSON) should not have to find the failing row in five
 * tables: the report says the phase it stopped in, the message of the step that failed, and
 * where to look next.
 */

/** Where to look next, per phase; the message itself already says what went wrong. */
const PHASE_HINTS = {
    'locate bundle': 'check store and name (or bundle); `dbdrill list --store <store>` shows the bundles the store holds',
    'fetch + verify': 'the bundle is not restorable as stored; `dbdrill verify --deep` shows every layer, and an older bundle may verify',
    provision: 'the scratch target could not be made: check provision, pg-version and target-url (with docker, that the docker daemon runs)',
    restore: 'see "Restore errors": an error that is harmless for this app can be accepted with ignore-restore-errors and a reason',
    migrate: 'see the migrate-command output in the log; it ran against the restored database',
    'kek check': 'the restored key does not open the restored data: the secret store and the database are from different points in time',
    'app start': 'see "App log": the app exited right after it was started on the restored data',
    health: 'see "Health checks" and "App log": the app did not answer its health checks within health-timeout',
    checks: 'see "Failed checks": the restored data differs from the source',
    objectives: 'the drill ran to the end; a recovery objective was not met (see "Objectives")',
};
/** The error record for a drill that stopped in `stage` with `err`. */
function describeFailure(stage, err, signal) {
    if (signal?.aborted || err instanceof errors/* Cancelled */.cJ) {
        const by = err instanceof errors/* Cancelled */.cJ ? err.message : `cancelled by ${String(signal?.reason ?? 'signal')}`;
        return {
            phase: stage,
            message: by,
            hint: 'the drill was stopped from outside; everything it started was torn down',
        };
    }
    const message = (0,errors/* messageOf */.bD)(err);
    if (err instanceof errors/* ConfigError */.xL)
        return { phase: stage, message, hint: 'a usage error: fix the option the message names and run again' };
    if (err instanceof errors/* EnvironmentFault */.kS)
        return {
            phase: stage,
            message,
            hint: 'a fault on the machine running the drill or on the way to the store, not in the bundle: fix what the message names and run again',
        };
    return { phase: stage, message, hint: PHASE_HINTS[stage] };
}
/**
 * A drill that ran to the end and still failed (a failed check, an objective over budget) has no
 * thrown error: its first failed check is the reason.
 */
function failureFromChecks(report) {
    const failed = report.checks.filter((c) => !c.ok && !c.skipped);
    if (!failed.length)
        return undefined;
    const first = failed[0];
    const phase = first.group === 'objective' ? 'objectives' : 'checks';
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more failed check(s))` : '';
    return {
        phase,
        message: `${first.name}: ${first.detail ?? 'failed'}${more}`,
        hint: PHASE_HINTS[phase],
    };
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/drill/verdict.js
/**
 * How a drill is judged: the RPO and RTO objectives as checks, then one status from everything
 * recorded. A drill passes only when it ran to the end and every check held; cancelled is its
 * own status, so a SIGTERM never reads as a failed backup.
 */


/** The objectives as checks, once the drill reached its end (RTO is known). */
function checkObjectives(recorder, options) {
    const { report } = recorder;
    if (options.rpoSeconds !== undefined) {
        const actual = report.rpoSeconds;
        const ok = actual !== undefined && actual <= options.rpoSeconds;
        report.objectives.rpo = { budgetSeconds: options.rpoSeconds, actualSeconds: actual, ok };
        recorder.check({
            name: 'RPO within budget',
            group: 'objective',
            ok,
            detail: `RPO ${actual ?? 'unknown'} s, budget ${options.rpoSeconds} s`,
        });
    }
    if (options.rtoSeconds !== undefined && report.rtoSeconds !== undefined) {
        const ok = report.rtoSeconds <= options.rtoSeconds;
        report.objectives.rto = { budgetSeconds: options.rtoSeconds, actualSeconds: report.rtoSeconds, ok };
        recorder.check({
            name: 'RTO within budget',
            group: 'objective',
            ok,
            detail: `RTO ${report.rtoSeconds} s, budget ${options.rtoSeconds} s`,
        });
    }
}
/**
 * Sets status and finishedAt. An objective the drill never reached is still reported: an RPO
 * known from the bundle is judged; an RTO that was never measured is not met.
 */
function decideVerdict(recorder, options, finishedAt, end) {
    const { report } = recorder;
    const cancelled = !!end.signal?.aborted || end.thrown instanceof errors/* Cancelled */.cJ;
    const failedChecks = report.checks.some((c) => !c.ok && !c.skipped);
    report.status = cancelled ? 'cancelled' : end.thrown || failedChecks ? 'failed' : 'passed';
    report.ok = report.status === 'passed';
    if (report.ok)
        delete report.error;
    else if (!report.error)
        report.error =
            end.thrown !== undefined || cancelled
                ? describeFailure(recorder.stage, end.thrown, end.signal)
                : failureFromChecks(report);
    report.finishedAt = finishedAt.toISOString();
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
        report.notes.push(`cancelled by ${String(end.signal?.reason ?? 'signal')}; the scratch target was torn down`);
    return { cancelled };
}
/**
 * Records why the drill stopped: the report's `error` (phase, message, hint), and a failed check
 * when no failed check already carries the reason, so every output (JUnit included) shows a red
 * line with the message. An error that is not a check failing (a crash, a lost connection, no
 * bundle) is the "drill ran to the end" check.
 */
function recordUnexpected(recorder, err, signal) {
    const error = describeFailure(recorder.stage, err, signal);
    recorder.report.error = error;
    if (err instanceof errors/* Cancelled */.cJ || signal?.aborted)
        return;
    const alreadyRed = recorder.report.checks.some((c) => !c.ok && !c.skipped);
    if (!(err instanceof errors/* CheckFailed */.EC) || !alreadyRed) {
        recorder.check({
            name: 'drill ran to the end',
            group: 'drill',
            ok: false,
            detail: `stopped in ${error.phase}: ${error.message}`,
        });
    }
}
function toDrillResult(report, reportDir, reportPath) {
    const failed = report.checks.filter((c) => !c.ok && !c.skipped);
    return {
        ok: report.ok,
        status: report.status,
        bundle: report.bundle,
        rtoSeconds: report.rtoSeconds ?? null,
        rpoSeconds: report.rpoSeconds ?? null,
        phases: report.phases.map((p) => ({ name: p.name, seconds: p.seconds, status: p.status })),
        counts: report.counts.map((c) => ({ name: c.name, expected: c.expected, actual: c.actual, ok: c.ok })),
        checks: {
            total: report.checks.length,
            failed: failed.length,
            failures: failed.map((c) => `${c.name}: ${c.detail ?? ''}`),
        },
        reportDir,
        reportPath,
        report,
    };
}
/**
 * What the caller sees once the report is written: a configuration mistake stays a ConfigError
 * (exit 2), any other failure is CheckFailed carrying the result (exit 1, outputs still set).
 */
function throwUnlessPassed(result, end) {
    if (end.thrown instanceof errors/* ConfigError */.xL)
        throw end.thrown;
    if (result.ok)
        return;
    const why = end.cancelled
        ? `drill cancelled by ${String(end.signal?.reason ?? 'signal')}`
        : `drill failed: ${end.thrown ? (0,errors/* messageOf */.bD)(end.thrown) : result.checks.failures.slice(0, 3).join('; ')}`;
    throw new errors/* CheckFailed */.EC(why, result);
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(77598);
// EXTERNAL MODULE: ./build/ncc-src/src/core/engines/postgres/connection.js + 1 modules
var connection = __webpack_require__(68665);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(51455);
// EXTERNAL MODULE: external "node:net"
var external_node_net_ = __webpack_require__(77030);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/provision/free-port.js

/**
 * A TCP port that was free a moment ago on `host`: the kernel picks it (bind to port 0), we read
 * it and release it. Another process can take it before the caller binds, so callers retry on
 * EADDRINUSE instead of trusting it; asking the kernel still beats guessing from a fixed range,
 * which collides whenever two clusters start at once.
 */
async function freePort(host = '127.0.0.1') {
    return new Promise((resolve, reject) => {
        const server = (0,external_node_net_.createServer)();
        server.unref();
        server.once('error', reject);
        server.listen({ host, port: 0, exclusive: true }, () => {
            const address = server.address();
            if (address === null || typeof address === 'string') {
                server.close();
                reject(new Error(`could not read the port bound on ${host}`));
                return;
            }
            const { port } = address;
            server.close((err) => (err ? reject(err) : resolve(port)));
        });
    });
}

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(73024);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/provision/initdb-cache.js
/**
 * A cache of initdb'd, never-started data directories, one per server build, initdb arguments and
 * owner. initdb is most of a scratch cluster's start (about 1.2 s of 1.5 s on the bench machine);
 * copying its untouched output (`cp -a`, a reflink where the file system has them) takes a fifth
 * of that. Every copy comes from a template no server ever ran on, so nothing of one drill reaches
 * the next, and each copy is given its own system identifier (`freshen`, `control-file.ts`): the
 * drill tells a backup's source from its scratch target by that identifier.
 *
 * Safety: an entry is built in a private temp dir and renamed into place, so a reader sees a whole
 * entry or none; the copy (not the entry) is checked against the entry's marker (every file's path,
 * size and mode, and the owner), so an entry removed or damaged while being copied is caught. Any
 * problem falls back to initdb with a debug line, and a bad entry is replaced.
 */






/** Bumped when the entry layout or what the key covers changes. */
const LAYOUT = 1;
const MARKER = 'dbdrill-template.json';
/** A `.tmp-`/`.old-` folder this old was left by a dbdrill that was killed. */
const STALE_MS = 60 * 60 * 1000;
/**
 * Where the cache lives: `DBDRILL_CACHE_DIR`, else `$XDG_CACHE_HOME/dbdrill`, else
 * `~/.cache/dbdrill` (templates go in its `initdb/` folder). `DBDRILL_CACHE_DIR=off` (or `0`,
 * `false`, `none`) turns it off.
 */
function defaultCacheDir(env = process.env) {
    const set = env.DBDRILL_CACHE_DIR?.trim();
    if (set !== undefined && set !== '') {
        return /^(off|0|false|none)$/i.test(set) ? undefined : external_node_path_.resolve(set);
    }
    if (env.XDG_CACHE_HOME && external_node_path_.isAbsolute(env.XDG_CACHE_HOME)) {
        return external_node_path_.join(env.XDG_CACHE_HOME, 'dbdrill');
    }
    const home = (0,external_node_os_.homedir)();
    return home ? external_node_path_.join(home, '.cache', 'dbdrill') : undefined;
}
/**
 * Puts a fresh initdb'd data directory at `dataDir`: a copy of the cached template when there is a
 * good one, else initdb (and the result is copied into the cache for the next time).
 */
async function prepareDataDir(deps, req) {
    const none = { fromCache: false, invalidate: async () => undefined };
    if (!req.cacheDir) {
        await req.runInitdb();
        return none;
    }
    const { logger } = deps;
    const owner = req.owner ?? { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
    let base;
    let key;
    try {
        base = await ownPrivateDir(external_node_path_.join(req.cacheDir, 'initdb'));
        key = await initdb_cache_keyOf(req, owner);
    }
    catch (e) {
        logger.debug(`initdb template cache not used: ${(0,errors/* messageOf */.bD)(e)}`);
        await req.runInitdb();
        return none;
    }
    const entry = external_node_path_.join(base, key);
    const copied = await copyFromCache(deps, req, entry, key, owner);
    if (copied) {
        return { fromCache: true, invalidate: () => discardEntry(entry, base, logger) };
    }
    await req.runInitdb();
    await populate(deps, req, base, entry, key, owner);
    return none;
}
async function copyFromCache(deps, req, entry, key, owner) {
    const { logger } = deps;
    let marker;
    try {
        marker = JSON.parse(await (0,promises_.readFile)(external_node_path_.join(entry, MARKER), 'utf8'));
    }
    catch (e) {
        const code = e.code;
        if (code === 'ENOENT')
            logger.debug(`initdb template cache: no entry yet for ${req.initdb}`);
        else
            logger.debug(`initdb template cache: unreadable marker in ${entry} (${(0,errors/* messageOf */.bD)(e)}); rebuilding it`);
        // A folder without its marker (never made by us: the marker is written before the rename)
        // would block every rebuild.
        await discardEntry(entry, external_node_path_.dirname(entry), logger);
        return false;
    }
    const problem = markerProblem(marker, req, key, owner);
    if (problem) {
        logger.debug(`initdb template cache: entry ${entry} rejected (${problem}); rebuilding it`);
        await discardEntry(entry, external_node_path_.dirname(entry), logger);
        return false;
    }
    try {
        const r = await deps.runner.run('cp', ['-a', '--reflink=auto', external_node_path_.join(entry, 'data'), req.dataDir], {
            quiet: true,
            maxStderrBytes: 16 * 1024,
        });
        if (r.code !== 0)
            throw new Error(`cp exited with ${r.code}: ${r.stderr.trim()}`);
        const copy = listTree(req.dataDir, owner);
        if (copy.join('\n') !== marker.files.join('\n'))
            throw new Error('the copy differs from the marker');
        const pgVersion = (await (0,promises_.readFile)(external_node_path_.join(req.dataDir, 'PG_VERSION'), 'utf8')).trim();
        if (pgVersion !== String(req.major))
            throw new Error(`PG_VERSION says ${pgVersion}, not ${req.major}`);
        await req.freshen();
    }
    catch (e) {
        if (e instanceof errors/* Cancelled */.cJ)
            throw e;
        logger.debug(`initdb template cache: copying ${entry} failed (${(0,errors/* messageOf */.bD)(e)}); running initdb instead`);
        await (0,promises_.rm)(req.dataDir, { recursive: true, force: true });
        await discardEntry(entry, external_node_path_.dirname(entry), logger);
        return false;
    }
    logger.info(`initdb skipped: copied the cached template ${entry}`);
    return true;
}
function markerProblem(m, req, key, owner) {
    if (m.layout !== LAYOUT)
        return `layout ${m.layout}, expected ${LAYOUT}`;
    if (m.key !== key)
        return 'key mismatch';
    if (m.version !== req.version)
        return `version ${m.version}, expected ${req.version}`;
    if (JSON.stringify(m.args) !== JSON.stringify(req.args))
        return 'initdb arguments differ';
    if (m.owner?.uid !== owner.uid || m.owner?.gid !== owner.gid)
        return 'owner differs';
    if (!Array.isArray(m.files) || m.files.length === 0)
        return 'no file list';
    return undefined;
}
/** Copies a just-initdb'd, never-started data dir into the cache. Never throws. */
async function populate(deps, req, base, entry, key, owner) {
    const { logger } = deps;
    const tmp = external_node_path_.join(base, `.tmp-${(0,external_node_crypto_.randomBytes)(6).toString('hex')}`);
    await removeStale(base);
    try {
        await (0,promises_.mkdir)(tmp, { mode: 0o700 });
        const r = await deps.runner.run('cp', ['-a', '--reflink=auto', req.dataDir, external_node_path_.join(tmp, 'data')], {
            quiet: true,
            maxStderrBytes: 16 * 1024,
        });
        if (r.code !== 0)
            throw new Error(`cp exited with ${r.code}: ${r.stderr.trim()}`);
        const source = listTree(req.dataDir, owner);
        const files = listTree(external_node_path_.join(tmp, 'data'), owner);
        if (source.join('\n') !== files.join('\n'))
            throw new Error('the copy differs from the data directory');
        const marker = { layout: LAYOUT, key, version: req.version, args: req.args, owner, files };
        await (0,promises_.writeFile)(external_node_path_.join(tmp, MARKER), JSON.stringify(marker), { mode: 0o600 });
        try {
            await (0,promises_.rename)(tmp, entry);
            logger.debug(`initdb template cache: stored ${entry}`);
        }
        catch (e) {
            const code = e.code;
            // A concurrent drill stored the same entry first; theirs is as good as ours.
            if (code !== 'ENOTEMPTY' && code !== 'EEXIST')
                throw e;
            await (0,promises_.rm)(tmp, { recursive: true, force: true });
        }
    }
    catch (e) {
        logger.debug(`initdb template cache: could not store ${entry} (${(0,errors/* messageOf */.bD)(e)})`);
        await (0,promises_.rm)(tmp, { recursive: true, force: true }).catch(() => undefined);
    }
}
/** Half-built or half-removed entries of a dbdrill that was killed, an hour or more ago. */
async function removeStale(base) {
    try {
        const cutoff = Date.now() - STALE_MS;
        for (const name of await (0,promises_.readdir)(base)) {
            if (!name.startsWith('.tmp-') && !name.startsWith('.old-'))
                continue;
            const full = external_node_path_.join(base, name);
            if ((await (0,promises_.lstat)(full)).mtimeMs < cutoff)
                await (0,promises_.rm)(full, { recursive: true, force: true });
        }
    }
    catch {
        /* best effort: a concurrent drill may remove the same leftovers */
    }
}
/** Renames the entry away first, so no reader starts copying a half-removed one. Never throws. */
async function discardEntry(entry, base, logger) {
    const doomed = external_node_path_.join(base, `.old-${(0,external_node_crypto_.randomBytes)(6).toString('hex')}`);
    try {
        await (0,promises_.rename)(entry, doomed);
    }
    catch (e) {
        if (e.code !== 'ENOENT')
            logger.debug(`initdb template cache: could not remove ${entry}: ${(0,errors/* messageOf */.bD)(e)}`);
        return;
    }
    await (0,promises_.rm)(doomed, { recursive: true, force: true }).catch(() => undefined);
}
/**
 * The cache folder, made 0700 when missing; refused when it is a symlink, not ours, or writable by
 * others (a template copied into a cluster as root must come from nobody else).
 */
async function ownPrivateDir(dir) {
    await (0,promises_.mkdir)(dir, { recursive: true, mode: 0o700 });
    const s = await (0,promises_.lstat)(dir);
    const uid = process.getuid?.();
    if (!s.isDirectory())
        throw new Error(`${dir} is not a directory`);
    if (uid !== undefined && s.uid !== uid)
        throw new Error(`${dir} belongs to uid ${s.uid}, not to us`);
    if (s.mode & 0o022)
        throw new Error(`${dir} is writable by group or others`);
    return dir;
}
/** The server build (initdb's real path, size, mtime), version, arguments and owner. */
async function initdb_cache_keyOf(req, owner) {
    const real = await (0,promises_.realpath)(req.initdb);
    const s = await (0,promises_.stat)(real);
    const what = JSON.stringify([LAYOUT, real, s.size, s.mtimeMs, req.version, req.args, owner.uid, owner.gid]);
    return `pg${req.major}-${(0,external_node_crypto_.createHash)('sha256').update(what).digest('hex').slice(0, 24)}`;
}
/**
 * Every entry below `root` as `path size mode`, sorted, with the owner checked on each: what a
 * whole, correctly owned copy must match. A symlink or other special file is a problem (initdb
 * makes none without -X). Synchronous: about a thousand lstat calls of microseconds each, which as
 * promises would queue behind the drill's bundle stream on libuv's threads for most of a second.
 */
function listTree(root, owner) {
    const out = [];
    const walk = (dir, rel) => {
        for (const name of (0,external_node_fs_.readdirSync)(dir)) {
            const full = external_node_path_.join(dir, name);
            const r = rel ? `${rel}/${name}` : name;
            const s = (0,external_node_fs_.lstatSync)(full);
            // the uid only: a setgid parent may give initdb's files another group, copies keep it
            if (s.uid !== owner.uid)
                throw new Error(`${r} is not owned by ${owner.uid}`);
            const mode = (s.mode & 0o7777).toString(8);
            if (s.isDirectory()) {
                out.push(`${r}/ ${mode}`);
                walk(full, r);
            }
            else if (s.isFile())
                out.push(`${r} ${s.size} ${mode}`);
            else
                throw new Error(`${r} is neither a file nor a directory`);
        }
    };
    const top = (0,external_node_fs_.lstatSync)(root);
    if (!top.isDirectory())
        throw new Error(`${root} is not a directory`);
    if (top.uid !== owner.uid)
        throw new Error(`${root} is not owned by ${owner.uid}`);
    out.push(`./ ${(top.mode & 0o7777).toString(8)}`);
    walk(root, '');
    return out.sort();
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/provision/control-file.js
/**
 * A new database system identifier for a copied, never-started data directory. Copies of one
 * initdb template would otherwise share initdb's identifier, and the drill tells the backup's own
 * source from a scratch target by that identifier (`engines/postgres/target-safety.ts`): a source
 * that is itself a dbdrill scratch cluster (the demo, the tests) would look like the target.
 *
 * pg_resetwal has no option for it (and the embedded npm server has no pg_resetwal), so the
 * identifier is rewritten here: the first 8 bytes of `global/pg_control`, with the control file's
 * CRC-32C, whose offset is found rather than assumed (the struct differs between majors), and the
 * `xlp_sysid` of each WAL segment's long page header, which the server checks against pg_control
 * (`XLogLongPageHeaderData`, unchanged since 9.x; page headers carry no CRC). A file that does not
 * look as expected is an error, and the caller falls back to initdb.
 */


/** PG_CONTROL_MAX_SAFE_SIZE: the struct, CRC included, fits in the first 512 bytes. */
const MAX_CONTROL = 512;
let table;
/** CRC-32C (Castagnoli), as PostgreSQL's INIT/COMP/FIN_CRC32C compute it. */
function crc32c(buf) {
    if (!table) {
        table = new Uint32Array(256);
        for (let i = 0; i < 256; i++) {
            let c = i;
            for (let k = 0; k < 8; k++)
                c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
            table[i] = c >>> 0;
        }
    }
    let crc = 0xffffffff;
    for (const b of buf)
        crc = table[(crc ^ b) & 0xff] ^ (crc >>> 8);
    return (crc ^ 0xffffffff) >>> 0;
}
/** Where the control file's CRC sits: the one 4-aligned offset whose stored value is the CRC of what precedes it. */
function controlCrcOffset(control) {
    const found = [];
    for (let off = 16; off + 4 <= Math.min(control.length, MAX_CONTROL); off += 4) {
        if (control.readUInt32LE(off) === crc32c(control.subarray(0, off)))
            found.push(off);
    }
    if (found.length !== 1)
        throw new Error(`pg_control: ${found.length} candidate CRC offsets, expected 1`);
    return found[0];
}
/** A fresh identifier shaped like initdb's: seconds since the epoch in the high half. */
function newSystemIdentifier(nowMs, random) {
    return (BigInt(Math.floor(nowMs / 1000)) << 32n) | BigInt(random.readUInt32LE(0));
}
/** XLOG_PAGE_MAGIC differs per major; XLP_LONG_HEADER marks a segment's first page. */
const XLP_LONG_HEADER = 0x0002;
const SYSID_IN_LONG_HEADER = 24;
const WAL_SEGMENT = /^[0-9A-F]{24}$/;
/** Rewrites the identifier in place, pg_control and WAL (owner and mode kept); returns the old one. */
async function setSystemIdentifier(dataDir, id) {
    const file = await (0,promises_.open)(external_node_path_.join(dataDir, 'global', 'pg_control'), 'r+');
    let old;
    let control;
    let crcAt;
    try {
        const head = Buffer.alloc(MAX_CONTROL);
        const { bytesRead } = await file.read(head, 0, MAX_CONTROL, 0);
        control = head.subarray(0, bytesRead);
        crcAt = controlCrcOffset(control);
        old = control.readBigUInt64LE(0);
    }
    catch (e) {
        await file.close();
        throw e;
    }
    try {
        const wal = external_node_path_.join(dataDir, 'pg_wal');
        let patched = 0;
        for (const name of (await (0,promises_.readdir)(wal)).filter((n) => WAL_SEGMENT.test(n))) {
            const seg = await (0,promises_.open)(external_node_path_.join(wal, name), 'r+');
            try {
                const h = Buffer.alloc(SYSID_IN_LONG_HEADER + 8);
                const { bytesRead } = await seg.read(h, 0, h.length, 0);
                // a preallocated, never-written segment is all zeroes: nothing to patch
                if (bytesRead < h.length || h.readUInt16LE(0) === 0)
                    continue;
                if (!(h.readUInt16LE(2) & XLP_LONG_HEADER) || h.readBigUInt64LE(SYSID_IN_LONG_HEADER) !== old)
                    throw new Error(`pg_wal/${name} does not start with a long page header of this system`);
                h.writeBigUInt64LE(id, SYSID_IN_LONG_HEADER);
                await seg.write(h, SYSID_IN_LONG_HEADER, 8, SYSID_IN_LONG_HEADER);
                patched++;
            }
            finally {
                await seg.close();
            }
        }
        if (patched === 0)
            throw new Error('pg_wal holds no segment to carry the new system identifier');
        control.writeBigUInt64LE(id, 0);
        control.writeUInt32LE(crc32c(control.subarray(0, crcAt)), crcAt);
        await file.write(control, 0, crcAt + 4, 0);
        return old;
    }
    finally {
        await file.close();
    }
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/engines/postgres/database-locale.js
var database_locale = __webpack_require__(22195);
// EXTERNAL MODULE: ./build/ncc-src/src/core/engines/postgres/pg-binaries.js
var pg_binaries = __webpack_require__(99084);
// EXTERNAL MODULE: ./build/ncc-src/src/core/reaper.js
var core_reaper = __webpack_require__(43690);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/provision/local-postgres.js












const SUPERUSER = 'postgres';
const HOST = '127.0.0.1';
const PORT_ATTEMPTS = 3;
const LOG_TAIL_LINES = 30;
/** sun_path is 108 bytes on Linux; keep room for "/.s.PGSQL.65535.lock". */
const MAX_SOCKET_DIR = 80;
/** The server reads PGPORT/PGDATA/... itself; the caller's libpq variables must not steer the scratch cluster. */
function serverEnv() {
    const env = {};
    for (const [k, v] of Object.entries(process.env))
        if (!k.startsWith('PG'))
            env[k] = v;
    env.LC_ALL = 'C';
    return env;
}
function quoteConfValue(value) {
    return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}
async function logTail(file, lines = LOG_TAIL_LINES) {
    try {
        const text = await (0,promises_.readFile)(file, 'utf8');
        return text.trimEnd().split('\n').slice(-lines).join('\n');
    }
    catch {
        return '(no server log was written)';
    }
}
function outputOf(r) {
    return (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-LOG_TAIL_LINES).join('\n');
}
/** uid and gid of a user from one `id` run (`uid=104(postgres) gid=111(postgres) …`); undefined: no such user. */
async function idsOf(runner, name) {
    let r;
    try {
        // LC_ALL=C: the labels of id's output are translatable
        r = await runner.run('id', [name], { quiet: true, env: { ...process.env, LC_ALL: 'C' } });
    }
    catch {
        return undefined;
    }
    const uid = /\buid=(\d+)/.exec(r.stdout)?.[1];
    const gid = /\bgid=(\d+)/.exec(r.stdout)?.[1];
    if (r.code !== 0 || uid === undefined || gid === undefined)
        return undefined;
    return { uid: Number(uid), gid: Number(gid) };
}
/**
 * initdb and postgres refuse to run as root. The packaged `postgres` account is the natural owner;
 * without one (a bare CI image with only the npm binaries) a system account `dbdrill` is created
 * once with useradd: no home, no login shell, its own group.
 */
async function unprivilegedUser(runner, logger) {
    for (const name of ['postgres', 'dbdrill']) {
        const ids = await idsOf(runner, name);
        if (ids)
            return { name, ...ids };
    }
    logger.info('running as root and no postgres user exists: creating the system user dbdrill for scratch clusters');
    let r;
    try {
        r = await runner.run('useradd', [
            '--system',
            '--user-group',
            '--no-create-home',
            '--home-dir',
            '/nonexistent',
            '--shell',
            '/usr/sbin/nologin',
            'dbdrill',
        ]);
    }
    catch (e) {
        throw new errors/* ConfigError */.xL(`Running as root, a scratch PostgreSQL must run as an unprivileged user, but there is no postgres user and useradd failed (${(0,errors/* messageOf */.bD)(e)}). Fix: create one (useradd --system postgres) or run dbdrill as a non-root user.`);
    }
    // A concurrent start may have created it first.
    const ids = await idsOf(runner, 'dbdrill');
    if (!ids) {
        throw new errors/* ConfigError */.xL(r.code !== 0
            ? `Running as root, a scratch PostgreSQL must run as an unprivileged user, but there is no postgres user and "useradd dbdrill" failed: ${outputOf(r)}. Fix: create one (useradd --system postgres) or run dbdrill as a non-root user.`
            : 'Running as root: created the system user dbdrill for scratch clusters, but `id dbdrill` cannot read its uid and gid. Fix: create a postgres user (useradd --system postgres) or run dbdrill as a non-root user.');
    }
    return { name: 'dbdrill', ...ids };
}
async function scratchParent() {
    const base = (0,external_node_os_.tmpdir)();
    // mkdtemp adds 6 characters after the prefix.
    if (external_node_path_.join(base, 'dbdrill-pg-XXXXXX').length <= MAX_SOCKET_DIR)
        return base;
    return '/tmp';
}
/**
 * A throwaway PostgreSQL cluster from local binaries, in a private 0700 temp dir, listening on
 * 127.0.0.1 only (and a unix socket in that dir), trust auth, durability off (it is scratch).
 * Registers nothing global: the caller owns signal handling and must call stop(). On any failure
 * the half-made cluster is torn down before the error is thrown, and the error carries the tail
 * of the server log.
 */
async function startLocalCluster(deps, options = {}) {
    const { runner, logger } = deps;
    const signal = options.signal;
    const database = options.database ?? 'postgres';
    const settings = options.settings ?? {};
    for (const name of Object.keys(settings)) {
        if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) {
            throw new errors/* ConfigError */.xL(`Invalid PostgreSQL setting name ${JSON.stringify(name)}: use a name like work_mem.`);
        }
    }
    if (database.length === 0 || database.length > 63 || database.includes('\0')) {
        throw new errors/* ConfigError */.xL(`Invalid database name ${JSON.stringify(database)}: 1 to 63 characters, no NUL.`);
    }
    const checkAbort = () => {
        (0,errors/* throwIfCancelled */.dZ)(signal);
    };
    checkAbort();
    const install = await (0,pg_binaries/* findServer */.Fm)(runner, options.major, {
        explicitBinDir: options.binDir,
        searchRoots: options.searchRoots,
    });
    const bin = (tool) => external_node_path_.join(install.binDir, tool);
    const root = process.getuid?.() === 0;
    const owner = root ? await unprivilegedUser(runner, logger) : undefined;
    const asUser = owner?.name;
    const dir = await (0,promises_.mkdtemp)(external_node_path_.join(await scratchParent(), 'dbdrill-pg-'));
    const dataDir = external_node_path_.join(dir, 'data');
    const logFile = external_node_path_.join(dir, 'server.log');
    const env = serverEnv();
    const runOpts = { env, cwd: dir, asUser, signal, maxStderrBytes: 64 * 1024 };
    // stop() below is the teardown; the reaper covers a dbdrill (or test runner) killed before it
    const reaper = (0,core_reaper/* reapAfterExit */.d)(dir, dataDir);
    /** The fallback when the signal could not be sent or did not end the server. */
    const pgCtlStop = async () => {
        try {
            const r = await runner.run(bin('pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '30'], {
                env,
                cwd: dir,
                asUser,
                quiet: true,
            });
            if (r.code === 0)
                return true;
            logger.warning(`pg_ctl stop failed for ${dataDir}: ${outputOf(r)}`);
        }
        catch (e) {
            logger.warning(`pg_ctl stop failed for ${dataDir}: ${(0,errors/* messageOf */.bD)(e)}`);
        }
        return false;
    };
    let stopping;
    const stop = () => {
        stopping ??= (async () => {
            let pidFileExists = false;
            try {
                await (0,promises_.stat)(external_node_path_.join(dataDir, 'postmaster.pid'));
                pidFileExists = true;
            }
            catch {
                /* never started, or already stopped */
            }
            if (pidFileExists) {
                const stopped = (await quitPostmaster(dataDir)) || (await pgCtlStop());
                if (!stopped)
                    await killPostmaster(dataDir, logger);
            }
            try {
                await (0,promises_.rm)(dir, { recursive: true, force: true, maxRetries: 3 });
            }
            catch (e) {
                logger.warning(`could not remove the scratch cluster directory ${dir}: ${(0,errors/* messageOf */.bD)(e)}`);
            }
            reaper.cancel();
        })();
        return stopping;
    };
    try {
        await (0,promises_.chmod)(dir, 0o700);
        if (owner)
            await (0,promises_.chown)(dir, owner.uid, owner.gid);
        // Checked while the data directory is copied (or initdb runs): two runuser starts that need not
        // wait for each other. When both fail, the check's error says more and wins.
        const userCheck = owner
            ? checkUserCanRun(runner, owner.name, bin('postgres'), dir, env)
            : Promise.resolve();
        userCheck.catch(() => undefined);
        logger.info(`starting a scratch PostgreSQL ${install.version} from ${install.binDir} in ${dir}`);
        const initdbArgs = ['-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'];
        const runInitdb = async () => {
            const init = await runner.run(bin('initdb'), ['-D', dataDir, ...initdbArgs], {
                ...runOpts,
                quiet: false,
            });
            checkAbort();
            if (init.code !== 0) {
                throw new Error(`initdb (PostgreSQL ${install.version}, ${bin('initdb')}) failed with exit code ${init.code}:\n${outputOf(init)}`);
            }
        };
        // A copy of the cached template gets its own system identifier (control-file.ts).
        const freshen = async () => {
            await setSystemIdentifier(dataDir, newSystemIdentifier(Date.now(), (0,external_node_crypto_.randomBytes)(4)));
        };
        const template = {
            initdb: bin('initdb'),
            version: install.version,
            major: install.major,
            args: initdbArgs,
            owner,
            dataDir,
            runInitdb,
            freshen,
        };
        const cacheDir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir || undefined;
        const [checked, made] = await Promise.allSettled([
            userCheck,
            prepareDataDir(deps, { ...template, cacheDir }),
        ]);
        if (checked.status === 'rejected')
            throw checked.reason;
        if (made.status === 'rejected')
            throw made.reason;
        let prepared = made.value;
        checkAbort();
        const configure = async () => {
            // initdb also trusts ::1 and replication; only the socket and 127.0.0.1 are wanted.
            await (0,promises_.writeFile)(external_node_path_.join(dataDir, 'pg_hba.conf'), '# dbdrill scratch cluster: trust, loopback and socket only\n' +
                'local all all trust\n' +
                `host all all ${HOST}/32 trust\n`);
            const conf = {
                listen_addresses: HOST,
                unix_socket_directories: dir,
                fsync: 'off',
                full_page_writes: 'off',
                synchronous_commit: 'off',
                lc_messages: 'C',
                ...settings,
            };
            await (0,promises_.appendFile)(external_node_path_.join(dataDir, 'postgresql.conf'), '\n# dbdrill scratch cluster\n' +
                Object.entries(conf)
                    .map(([k, v]) => `${k} = ${quoteConfValue(v)}\n`)
                    .join(''));
        };
        await configure();
        let port = 0;
        let suspect;
        for (let attempt = 1;; attempt++) {
            port = await freePort(HOST);
            const r = await runner.run(bin('pg_ctl'), ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '120', '-o', `-p ${port}`], runOpts);
            checkAbort();
            if (r.code === 0) {
                // The fresh initdb started where the template did not: the template was the problem.
                if (suspect)
                    await suspect.invalidate();
                break;
            }
            const tail = await logTail(logFile);
            if (/Address already in use/i.test(tail) && attempt < PORT_ATTEMPTS) {
                logger.info(`port ${port} was taken before the server bound it; trying another`);
                continue;
            }
            if (prepared.fromCache) {
                // A template that copies whole but does not start may be damaged: start once more from a
                // fresh initdb, and drop the entry only if that one starts (a bad setting fails both).
                logger.debug(`the server did not start from the cached template; trying a fresh initdb:\n${tail}`);
                suspect = prepared;
                await killPostmaster(dataDir, logger);
                await (0,promises_.rm)(dataDir, { recursive: true, force: true });
                await (0,promises_.rm)(logFile, { force: true });
                prepared = await prepareDataDir(deps, { ...template, cacheDir: undefined });
                await configure();
                attempt = 0;
                continue;
            }
            throw new Error(`PostgreSQL ${install.version} (${install.binDir}) did not start on ${HOST}:${port}: pg_ctl exited with ${r.code}: ${outputOf(r)}\n` +
                `server log (last lines):\n${tail}`);
        }
        if (database !== SUPERUSER || options.locale) {
            // ssl: false, or an inherited PGSSLMODE=require would fail against this SSL-less server.
            const { Client } = await (0,connection/* loadPg */.QZ)();
            const client = new Client({ host: HOST, port, user: SUPERUSER, database: 'template1', ssl: false });
            client.on('error', () => {
                /* a stopped server drops the connection; the query promise reports it */
            });
            try {
                await client.connect();
                if (!options.locale)
                    await client.query(`CREATE DATABASE ${(0,connection/* quoteIdent */.v4)(database)}`);
                else {
                    if (database === SUPERUSER)
                        await client.query(`DROP DATABASE ${(0,connection/* quoteIdent */.v4)(database)}`);
                    try {
                        await client.query(`CREATE DATABASE ${(0,connection/* quoteIdent */.v4)(database)} ${(0,database_locale/* createDatabaseOptions */.il)(options.locale, install.major)}`);
                    }
                    catch (err) {
                        throw new errors/* ConfigError */.xL(`cannot create the scratch database like the source (${(0,database_locale/* describeLocale */.Wb)(options.locale)}) in PostgreSQL ${install.version}: ${(0,errors/* messageOf */.bD)(err)}. ` +
                            `Fix: install that locale on this machine (e.g. locale-gen), or restore into a target-url you created and set accept-locale-mismatch with a reason.`);
                    }
                }
            }
            finally {
                await client.end().catch(() => undefined);
            }
        }
        checkAbort();
        const url = `postgres://${SUPERUSER}@${HOST}:${port}/${encodeURIComponent(database)}`;
        logger.info(`scratch PostgreSQL ${install.version} ready at ${url}`);
        return {
            url,
            host: HOST,
            port,
            user: SUPERUSER,
            database,
            socketDir: dir,
            dataDir,
            major: install.major,
            version: install.version,
            env: {
                PGHOST: HOST,
                PGPORT: String(port),
                PGUSER: SUPERUSER,
                PGDATABASE: database,
                PGSSLMODE: 'disable',
            },
            stop,
        };
    }
    catch (e) {
        // Read the log before stop() removes it; pg_ctl failures already carry it.
        const tail = (0,errors/* messageOf */.bD)(e).includes('(last lines)') || !(await exists(logFile))
            ? ''
            : `\nserver log (last lines):\n${await logTail(logFile)}`;
        await stop();
        (0,errors/* throwIfCancelled */.dZ)(signal);
        if (e instanceof errors/* ConfigError */.xL || e instanceof errors/* Cancelled */.cJ)
            throw e;
        throw new Error(`could not start a scratch PostgreSQL ${install.version}: ${(0,errors/* messageOf */.bD)(e)}${tail}`, {
            cause: e,
        });
    }
}
async function exists(file) {
    try {
        await (0,promises_.stat)(file);
        return true;
    }
    catch {
        return false;
    }
}
/**
 * A root-owned checkout under a 0700 directory (/root) is unreachable for the unprivileged user;
 * fail with the reason instead of initdb's "could not find own program executable".
 */
async function checkUserCanRun(runner, user, postgres, dir, env) {
    // Both probes at once: each is a runuser start, and this sits before initdb on the drill's path.
    const [r, w] = await Promise.all([
        runner.run(postgres, ['--version'], { env, cwd: dir, asUser: user, quiet: true }),
        runner.run('test', ['-w', dir], { env, cwd: dir, asUser: user, quiet: true }),
    ]);
    if (r.code !== 0) {
        throw new errors/* ConfigError */.xL(`The unprivileged user ${user} cannot run ${postgres} (${outputOf(r) || `exit code ${r.code}`}); when root, scratch clusters run as ${user}. ` +
            `Fix: make every parent directory of it traversable (chmod o+x), or install dbdrill and its node_modules outside /root.`);
    }
    if (w.code !== 0) {
        throw new errors/* ConfigError */.xL(`The unprivileged user ${user} cannot write the scratch directory ${dir}. Fix: set TMPDIR to a directory every user can traverse (e.g. /tmp).`);
    }
}
/**
 * The immediate shutdown pg_ctl stop -m immediate asks for (SIGQUIT to the postmaster), sent
 * directly and watched every 10 ms: pg_ctl adds a runuser start and polls every 100 ms, a tenth of
 * a second at the end of every drill. Done when the postmaster has removed its pid file (a zombie
 * left by an init that does not reap would still answer kill 0). False when the pid file does not
 * name a postgres of this data dir, or it does not go within 10 s: pg_ctl then takes over.
 */
async function quitPostmaster(dataDir) {
    const pidFile = external_node_path_.join(dataDir, 'postmaster.pid');
    const pid = await ourPostmaster(dataDir);
    if (pid === undefined)
        return false;
    try {
        process.kill(pid, 'SIGQUIT');
    }
    catch {
        return false;
    }
    for (let waited = 0; waited < 10_000; waited += 10) {
        await new Promise((r) => setTimeout(r, 10));
        try {
            await (0,promises_.stat)(pidFile);
        }
        catch {
            return true;
        }
    }
    return false;
}
/**
 * The postmaster serving this data dir, from its pid file. The file may be stale and its pid
 * reused, so the pid counts only when /proc shows a postgres with this very data dir.
 */
async function ourPostmaster(dataDir) {
    try {
        const pid = Number((await (0,promises_.readFile)(external_node_path_.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
        if (!Number.isInteger(pid) || pid <= 1)
            return undefined;
        const cmdline = (await (0,promises_.readFile)(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
        if (!cmdline.some((a) => a.endsWith('postgres')) || !cmdline.includes(dataDir))
            return undefined;
        return pid;
    }
    catch {
        return undefined; // gone already, or no /proc to confirm it is ours
    }
}
/** Last resort when neither the signal nor pg_ctl stopped the server. */
async function killPostmaster(dataDir, logger) {
    const pid = await ourPostmaster(dataDir);
    if (pid === undefined)
        return;
    try {
        process.kill(pid, 'SIGKILL');
        logger.warning(`killed the scratch postmaster ${pid}`);
    }
    catch {
        /* gone already */
    }
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/provision/target.js
/**
 * The drill's scratch target: a database the workflow provides, a throwaway local cluster, or a
 * throwaway container. Whatever dbdrill creates, dbdrill tears down.
 */






/**
 * A throwaway target is only ever restored into and read. With wal_level minimal, pg_restore's
 * parallel COPY (it truncates each table it created in the loading transaction) and its index
 * builds write no WAL: on the bench dump, 147 kB of WAL instead of 372 MB, the same rows.
 */
const RESTORE_SETTINGS = { wal_level: 'minimal', max_wal_senders: '0' };
async function provisionTarget(deps, o) {
    if (o.targetUrl) {
        const t = (0,connection/* parsePgUrl */.c6)(o.targetUrl, 'target-url');
        return {
            kind: 'url',
            url: o.targetUrl,
            display: (0,connection/* describeTarget */.ff)(t),
            env: {},
            teardown: async () => undefined,
        };
    }
    if (o.provision === 'local') {
        const major = o.pgVersion ?? (await defaultLocalMajor(deps, o));
        const cluster = await startLocalCluster(deps, {
            major,
            database: o.database,
            locale: o.locale,
            binDir: o.pgBinDir,
            searchRoots: o.searchRoots,
            signal: o.signal,
            settings: RESTORE_SETTINGS,
        });
        return {
            kind: 'local',
            // The cluster dbdrill just made has no TLS: libpq's default (prefer) would first ask for it
            // on every connection, dbdrill's own and pg_restore's jobs, and be refused.
            url: `${cluster.url}?sslmode=disable`,
            display: `throwaway PostgreSQL ${cluster.version} at ${cluster.host}:${cluster.port}/${cluster.database}`,
            env: cluster.env,
            teardown: () => cluster.stop(),
        };
    }
    if (o.provision === 'docker')
        return provisionDocker(deps, o);
    throw new errors/* ConfigError */.xL('set target-url or provision');
}
/**
 * Without pg-version the drill restores into the source's own major when it is installed (the
 * faithful rehearsal), else the nearest newer one; a pre-upgrade drill names pg-version.
 */
async function defaultLocalMajor(deps, o) {
    if (o.sourceMajor === undefined)
        return undefined;
    const majors = (await (0,pg_binaries/* findPgInstalls */.zm)(deps.runner, { explicitBinDir: o.pgBinDir, searchRoots: o.searchRoots }))
        .filter((i) => i.hasServer && !i.problem)
        .map((i) => i.major)
        .sort((a, b) => a - b);
    const chosen = majors.find((m) => m === o.sourceMajor) ?? majors.find((m) => m > o.sourceMajor);
    if (chosen !== undefined && chosen !== o.sourceMajor) {
        deps.logger.info(`no PostgreSQL ${o.sourceMajor} server here; restoring into ${chosen}, the nearest newer major`);
    }
    return chosen;
}
async function provisionDocker(deps, o) {
    const image = o.image ?? `postgres:${o.pgVersion ?? o.sourceMajor ?? 16}`;
    const name = `dbdrill-drill-${(0,external_node_crypto_.randomBytes)(4).toString('hex')}`;
    const password = (0,external_node_crypto_.randomBytes)(18).toString('base64url');
    deps.logger.addSecret(password);
    const env = { ...process.env, POSTGRES_PASSWORD: password };
    let started;
    try {
        started = await deps.runner.run('docker', [
            'run',
            '-d',
            '--rm',
            '--name',
            name,
            '-e',
            'POSTGRES_PASSWORD',
            // with a source locale the database is created below (CREATE DATABASE ... TEMPLATE template0)
            ...(o.locale ? [] : ['-e', `POSTGRES_DB=${o.database}`]),
            '-p',
            '127.0.0.1::5432',
            image,
        ], { env, signal: o.signal });
    }
    catch (err) {
        throw new errors/* ConfigError */.xL(`provision: docker needs the docker CLI and a running engine (${err.message}); use provision: local or target-url`);
    }
    if (started.code !== 0) {
        throw new errors/* ConfigError */.xL(`provision: docker could not start ${image}: ${dockerCause(started.stderr)}; check the image name and that a Docker engine runs here`);
    }
    const teardown = async () => {
        await deps.runner.run('docker', ['rm', '-f', name], { quiet: true }).catch(() => undefined);
    };
    try {
        const port = await deps.runner.run('docker', ['port', name, '5432/tcp'], { quiet: true });
        const hostPort = /:(\d+)\s*$/m.exec(port.stdout)?.[1];
        if (!hostPort)
            throw new Error(`docker port ${name} printed no port: ${port.stdout}`);
        const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${hostPort}/${encodeURIComponent(o.database)}`;
        const admin = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${hostPort}/${o.locale ? 'template1' : 'postgres'}`;
        const deadline = Date.now() + 90_000;
        for (;;) {
            o.signal?.throwIfAborted();
            try {
                const c = await (0,connection/* connectPg */.QB)(o.locale ? admin : url, 'provision: docker');
                await c.end();
                break;
            }
            catch (err) {
                if (Date.now() > deadline)
                    throw new Error(`the ${image} container did not accept connections within 90 s: ${err.message}`);
                await new Promise((r) => setTimeout(r, 500));
            }
        }
        if (o.locale)
            await createWithLocale(admin, o.database, o.locale, 'provision: docker');
        return {
            kind: 'docker',
            url,
            display: `${image} container ${name} at 127.0.0.1:${hostPort}/${o.database}`,
            env: {},
            teardown,
        };
    }
    catch (err) {
        await teardown();
        throw err;
    }
}
/**
 * docker's own cause from its stderr. Its last line is usually "See 'docker run --help'." or an
 * image pull progress line; the cause is the line "docker: ..." or "Cannot connect to the Docker
 * daemon ...", or failing those, the last line that is not advice.
 */
function dockerCause(stderr) {
    const lines = stderr
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean);
    const cause = lines.find((l) => /Cannot connect to the Docker daemon|permission denied.*docker\.sock/i.test(l)) ??
        lines.find((l) => /^(docker: |Error response from daemon|Error: )/i.test(l)) ??
        [...lines].reverse().find((l) => !/^See 'docker|^Run 'docker .* --help'/i.test(l));
    return cause ?? '(docker printed nothing)';
}
/**
 * Creates (or, for `postgres`, recreates) the database with the source's encoding and locale,
 * connected to template1. A locale the server's OS lacks fails here, named, not as a restore error.
 */
async function createWithLocale(adminUrl, database, locale, input) {
    const c = await (0,connection/* connectPg */.QB)(adminUrl, input);
    try {
        const major = Math.floor(Number((await c.query(`SELECT current_setting('server_version_num') AS n`)).rows[0].n) /
            10000);
        const name = '"' + database.replace(/"/g, '""') + '"';
        await c.query(`DROP DATABASE IF EXISTS ${name}`);
        try {
            await c.query(`CREATE DATABASE ${name} ${(0,database_locale/* createDatabaseOptions */.il)(locale, major)}`);
        }
        catch (err) {
            throw new errors/* ConfigError */.xL(`${input}: cannot create the scratch database like the source (${(0,database_locale/* describeLocale */.Wb)(locale)}): ${err.message}; install that locale in the image, or use target-url with accept-locale-mismatch`);
        }
    }
    finally {
        await c.end().catch(() => undefined);
    }
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/logger.js
var logger = __webpack_require__(2473);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/report/format.js
/** Small text helpers shared by the report writers. */
function formatInt(n) {
    return n === null || n === undefined ? '—' : n.toLocaleString('en-US');
}
/**
 * Applies `redact` to every string in a value (keys included), before any escaping: a secret
 * that contains `&` or `|` would no longer match after XML or Markdown escaping.
 */
function redactDeep(value, redact) {
    const walk = (v) => {
        if (typeof v === 'string')
            return redact(v);
        if (Array.isArray(v))
            return v.map(walk);
        if (v && typeof v === 'object') {
            return Object.fromEntries(Object.entries(v).map(([k, x]) => [redact(k), walk(x)]));
        }
        return v;
    };
    return walk(value);
}
/**
 * Text for Markdown prose and table cells: no raw HTML, no accidental links or emphasis, no
 * broken table rows. Report values come from databases, apps and users, so they are untrusted.
 */
function mdText(s, maxLength = 500) {
    let t = s.length > maxLength ? s.slice(0, maxLength - 1) + '…' : s;
    t = t
        .replace(/&/g, '&amp;')
        .replace(/</g, '&lt;')
        .replace(/>/g, '&gt;')
        .replace(/([\\`*_[\]|#~!])/g, '\\$1')
        .replace(/\r?\n/g, '<br>');
    return t;
}
/** An inline code span that survives backticks and pipes in the value (GFM tables). */
function mdCode(s) {
    const flat = s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
    const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((m) => m.length));
    const fence = '`'.repeat(longest + 1);
    const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
    return `${fence}${pad}${flat}${pad}${fence}`;
}
/** A fenced block whose fence is longer than any backtick run inside, so logs cannot close it early. */
function mdFence(lines, lang = 'text') {
    const body = lines.join('\n');
    const longest = Math.max(0, ...(body.match(/`{3,}/g) ?? []).map((m) => m.length));
    const fence = '`'.repeat(Math.max(3, longest + 1));
    return `${fence}${lang}\n${body}\n${fence}`;
}
/**
 * Text inside a mermaid diagram: `:` separates a gantt task from its data, `#` starts an
 * entity and `;` ends a statement, so each becomes a mermaid entity code.
 */
function mermaidText(s) {
    return s
        .replace(/[\r\n]+/g, ' ')
        .replace(/[#:;]/g, (c) => `#${c.charCodeAt(0)};`)
        .trim();
}
/** Strips characters XML 1.0 cannot carry (control characters from app logs), then escapes. */
function xmlEscape(s) {
    return (s
        // eslint-disable-next-line no-control-regex -- matching control characters is the point
        .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
        .replace(/&/g, '&amp;')
        .replace(/</g, '&lt;')
        .replace(/>/g, '&gt;')
        .replace(/"/g, '&quot;')
        .replace(/'/g, '&apos;'));
}
/** Attribute values additionally keep their line breaks (parsers normalise raw newlines in attributes to spaces). */
function xmlAttr(s) {
    return xmlEscape(s).replace(/\r/g, '&#13;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}
/** App output often carries ANSI colours and stray control characters; reports want the text. */
function cleanLogLine(line) {
    return (line
        // eslint-disable-next-line no-control-regex -- matching control characters is the point
        .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '')
        // eslint-disable-next-line no-control-regex -- matching control characters is the point
        .replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, '')
        // eslint-disable-next-line no-control-regex -- matching control characters is the point
        .replace(/[\x00-\x08\x0B-\x1F\x7F]/g, '\uFFFD'));
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/report/junit.js

/**
 * The drill as JUnit XML, one test case per check (classname = group), so CI test-report
 * viewers show which check failed without reading the Markdown. A drill that failed or was
 * cancelled without any failed check (e.g. a crash between phases) gets one extra failing case,
 * so the XML never looks green for a red drill.
 */
function renderJUnit(report) {
    const cases = [...report.checks];
    const anyFailed = cases.some((c) => !c.ok && !c.skipped);
    if (report.status !== 'passed' && !anyFailed) {
        const why = report.error
            ? `stopped in ${report.error.phase}: ${report.error.message}${report.error.hint ? `\n${report.error.hint}` : ''}`
            : report.notes.length
                ? report.notes.join('\n')
                : `the drill ended with status ${report.status}`;
        cases.push({ name: `drill ${report.status}`, group: 'drill', ok: false, detail: why });
    }
    const failures = cases.filter((c) => !c.ok && !c.skipped).length;
    const skipped = cases.filter((c) => c.skipped).length;
    const total = Date.parse(report.finishedAt) - Date.parse(report.startedAt);
    const time = seconds(Number.isFinite(total) ? total / 1000 : cases.reduce((s, c) => s + (c.seconds ?? 0), 0));
    const counts = `tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time}"`;
    const lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        `<testsuites name="dbdrill" ${counts}>`,
        `  <testsuite name="dbdrill drill" ${counts} timestamp="${xmlAttr(report.startedAt)}">`,
    ];
    const props = [
        ['status', report.status],
        ['name', report.name],
        ['bundle', report.bundle],
        ['rtoSeconds', report.rtoSeconds],
        ['rpoSeconds', report.rpoSeconds],
        ['bundleSha256', report.bundleSha256],
        ['error', report.error ? `stopped in ${report.error.phase}: ${report.error.message}` : undefined],
        ['tool', `${report.tool.name} ${report.tool.version}`],
    ];
    lines.push('    <properties>');
    for (const [k, v] of props) {
        if (v !== undefined)
            lines.push(`      <property name="${k}" value="${xmlAttr(String(v))}"/>`);
    }
    lines.push('    </properties>');
    for (const c of cases) {
        const open = `    <testcase classname="${xmlAttr(c.group)}" name="${xmlAttr(c.name)}" time="${seconds(c.seconds ?? 0)}"`;
        if (c.skipped) {
            lines.push(`${open}>`, `      <skipped${c.detail ? ` message="${xmlAttr(c.detail)}"` : ''}/>`, '    </testcase>');
        }
        else if (!c.ok) {
            const detail = c.detail ?? 'failed';
            const message = detail.split('\n')[0].slice(0, 500);
            lines.push(`${open}>`, `      <failure message="${xmlAttr(message)}" type="${xmlAttr(c.group)}">${xmlEscape(detail)}</failure>`, '    </testcase>');
        }
        else {
            lines.push(`${open}/>`);
        }
    }
    if (report.appLogTail?.length) {
        lines.push(`    <system-out>${xmlEscape(report.appLogTail.map(cleanLogLine).join('\n'))}</system-out>`);
    }
    lines.push('  </testsuite>', '</testsuites>', '');
    return lines.join('\n');
}
function seconds(s) {
    return (Number.isFinite(s) && s > 0 ? s : 0).toFixed(3);
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/report/history.js
/**
 * Flags a drill whose RTO is more than `threshold` (25 %) above the median RTO of earlier
 * drills. The median, not the mean, so one pathological drill does not hide a regression.
 * Cancelled drills and drills without an RTO (the app never became healthy) are left out.
 */
function slowerThanMedian(history, current, threshold = 0.25) {
    const values = history
        .filter((h) => h.status !== 'cancelled')
        .map((h) => h.rtoSeconds)
        .filter((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0);
    if (values.length === 0)
        return { flag: false };
    const m = median(values);
    const flag = typeof current === 'number' && Number.isFinite(current) && current > m * (1 + threshold);
    return { flag, median: m };
}
function median(values) {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/duration.js
var duration = __webpack_require__(29353);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/report/markdown.js



const STATUS_HEADLINE = {
    passed: '✅ Restore drill passed',
    failed: '❌ Restore drill failed',
    cancelled: '⏹️ Restore drill cancelled',
};
const PHASE_ICON = { ok: '✅', failed: '❌', skipped: '⏭️', cancelled: '⏹️' };
/** Keeps the job summary far below GitHub's 1 MiB limit; the JSON has everything. */
const MAX_ROWS = 50;
const ok = (b) => (b ? '✅' : '❌');
/**
 * The drill report as GitHub-flavoured Markdown; it doubles as the job summary, so the top
 * answers "did it pass, and within which RPO/RTO" before any detail.
 */
function renderMarkdown(report, options = {}) {
    const redact = options.redact;
    const r = redact ? redactDeep(report, redact) : report;
    const out = [];
    out.push(`## ${STATUS_HEADLINE[r.status] ?? mdText(String(r.status))}${r.name ? `: ${mdText(r.name)}` : ''}`, '');
    if (r.error) {
        // The job summary's first line after the status: why, before any table.
        out.push(`**Why:** stopped in ${mdText(r.error.phase)}: ${mdText(r.error.message, 1000)}`, ...(r.error.hint ? ['', `**Next:** ${mdText(r.error.hint, 1000)}`] : []), '');
    }
    const headline = [];
    if (r.rtoSeconds !== undefined)
        headline.push(`**RTO** ${objectiveText(r.rtoSeconds, r.objectives.rto)}`);
    if (r.rpoSeconds !== undefined)
        headline.push(`**RPO** ${objectiveText(r.rpoSeconds, r.objectives.rpo)}`);
    const failedChecks = r.checks.filter((c) => !c.ok && !c.skipped);
    const skippedChecks = r.checks.filter((c) => c.skipped).length;
    const ran = r.checks.length - skippedChecks;
    headline.push(ran === 0
        ? `**Checks** none ran${r.error ? ` (stopped in ${mdText(r.error.phase)})` : ''}`
        : `**Checks** ${ran - failedChecks.length}/${ran} passed${skippedChecks ? `, ${skippedChecks} skipped` : ''}`);
    if (r.rtoSeconds === undefined && r.status !== 'passed')
        headline.push('**RTO** not measured');
    out.push(headline.join(' · '), '');
    const facts = [];
    if (r.bundle)
        facts.push(`- **Bundle:** ${mdCode(r.bundle)}${r.bundleCreatedAt ? ` (created ${r.bundleCreatedAt})` : ''}`);
    if (r.bundleSha256)
        facts.push(`- **Bundle sha256:** ${mdCode(r.bundleSha256)}`);
    const sources = r.sources ?? (r.source ? [r.source] : []);
    for (const s of sources) {
        const parts = [
            s.database !== undefined ? `database ${mdCode(s.database)}` : undefined,
            s.serverVersion
                ? `${s.engine === 'mongodb' ? 'MongoDB' : 'PostgreSQL'} ${mdText(s.serverVersion)}`
                : undefined,
            s.systemIdentifier ? `system identifier ${mdCode(s.systemIdentifier)}` : undefined,
        ].filter((x) => !!x);
        if (parts.length)
            facts.push(`- **Source:** ${parts.join(', ')}`);
    }
    if (r.target) {
        const version = r.target.serverVersion ? `, PostgreSQL ${mdText(r.target.serverVersion)}` : '';
        facts.push(`- **Target:** ${mdText(r.target.kind)} ${mdCode(r.target.display)}${version}`);
    }
    facts.push(`- **Drill:** ${r.startedAt} → ${r.finishedAt} (${(0,duration/* formatDuration */.a3)(spanSeconds(r.startedAt, r.finishedAt))})`);
    if (r.runner) {
        const extra = [r.runner.platform, r.runner.node ? `Node ${r.runner.node}` : undefined].filter(Boolean);
        facts.push(`- **Runner:** ${mdCode(r.runner.host)}, ${mdText(r.tool.name)} ${mdText(r.tool.version)}` +
            (extra.length ? ` (${mdText(extra.join(', '))})` : ''));
    }
    out.push(...facts, '');
    renderObjectives(r, out);
    if (failedChecks.length) {
        out.push('### Failed checks', '', '| Group | Check | Detail |', '|---|---|---|');
        for (const c of failedChecks.slice(0, MAX_ROWS)) {
            out.push(`| ${mdText(c.group)} | ${mdText(c.name)} | ${mdText(c.detail ?? '')} |`);
        }
        if (failedChecks.length > MAX_ROWS)
            out.push(`| … | and ${failedChecks.length - MAX_ROWS} more (see junit.xml) | |`);
        out.push('');
    }
    renderPhases(r.phases, out);
    renderAllChecks(r, out);
    renderCounts(r, out, options.maxCountRows ?? 50);
    renderStructure(r, out);
    renderHealth(r, out);
    renderRestoreErrors(r, out);
    if (r.status !== 'passed' && r.appLogTail?.length) {
        out.push('<details open><summary>App log (last ' + r.appLogTail.length + ' lines)</summary>', '', mdFence(r.appLogTail.map(cleanLogLine)), '', '</details>', '');
    }
    if (r.history?.length)
        renderHistory(r, out, options.historyLimit ?? 20);
    if (r.notes.length) {
        out.push('### Notes', '', ...r.notes.map((n) => `- ${mdText(n, 2000)}`), '');
    }
    out.push(`<sub>${mdText(r.tool.name)} ${mdText(r.tool.version)} · report schema v${r.schemaVersion} · ` +
        'RPO = drill start − backup end; RTO = drill start → all health checks pass</sub>', '');
    const text = out.join('\n');
    return redact ? redact(text) : text;
}
function objectiveText(actual, objective) {
    if (!objective)
        return (0,duration/* formatDuration */.a3)(actual);
    return `${(0,duration/* formatDuration */.a3)(actual)} ${objective.ok ? '≤' : '>'} ${(0,duration/* formatDuration */.a3)(objective.budgetSeconds)} ${ok(objective.ok)}`;
}
function renderObjectives(r, out) {
    const rows = [];
    const row = (label, definition, actual, o) => {
        if (actual === undefined && !o)
            return;
        const value = o?.actualSeconds ?? actual;
        const result = !o
            ? 'no budget'
            : value === undefined
                ? '❌ not measured'
                : o.ok
                    ? '✅ within budget'
                    : '❌ over budget';
        rows.push(`| ${label} | ${definition} | ${(0,duration/* formatDuration */.a3)(value)} | ${o ? (0,duration/* formatDuration */.a3)(o.budgetSeconds) : '—'} | ${result} |`);
    };
    row('RTO', 'drill start → app healthy', r.rtoSeconds, r.objectives.rto);
    row('RPO', 'drill start − backup end', r.rpoSeconds, r.objectives.rpo);
    if (!rows.length)
        return;
    out.push('### Objectives', '', '| Objective | Definition | Actual | Budget | Result |', '|---|---|---:|---:|---|', ...rows, '');
}
function renderPhases(phases, out) {
    if (!phases.length)
        return;
    out.push('### Phases', '', '| Phase | Status | Started | Duration | Detail |', '|---|---|---|---:|---|');
    for (const p of phases) {
        out.push(`| ${mdText(p.name)} | ${PHASE_ICON[p.status] ?? ''} ${mdText(p.status)} | ${p.startedAt.slice(11, 19)} | ` +
            `${(0,duration/* formatDuration */.a3)(p.seconds)} | ${mdText(p.detail ?? '')} |`);
    }
    out.push('');
    const gantt = renderGantt(phases);
    if (gantt)
        out.push(gantt, '');
}
/**
 * A mermaid gantt of the phases. Times are epoch milliseconds (`dateFormat x`) and durations
 * `<n>ms`, because phases are often sub-second and mermaid's default day resolution would
 * flatten them; skipped phases took no time and are left out.
 */
function renderGantt(phases) {
    const timed = phases
        .map((p, i) => ({ p, i, start: Date.parse(p.startedAt) }))
        .filter((x) => x.p.status !== 'skipped' && Number.isFinite(x.start));
    if (!timed.length)
        return undefined;
    const lines = [
        '```mermaid',
        'gantt',
        '  title Drill phases',
        '  dateFormat x',
        '  axisFormat %H:%M:%S',
        '  section Drill',
    ];
    for (const { p, i, start } of timed) {
        const ms = Math.max(1, Math.round(p.seconds * 1000));
        const tag = p.status === 'ok' ? 'done' : 'crit';
        lines.push(`  ${mermaidText(p.name)} (${mermaidText((0,duration/* formatDuration */.a3)(p.seconds))}) :${tag}, p${i}, ${start}, ${ms}ms`);
    }
    lines.push('```');
    return lines.join('\n');
}
/**
 * Every check that ran, grouped (verify layers, restore, KEK, each assert-sql query with its
 * result, sequences, health, objectives), so a passed drill shows what it proved and not only
 * that nothing failed. Long groups fold into details blocks to keep the summary short.
 */
function renderAllChecks(r, out) {
    if (!r.checks.length)
        return;
    const groups = new Map();
    for (const c of r.checks)
        groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
    out.push('### Checks', '');
    for (const [group, checks] of groups) {
        const bad = checks.filter((c) => !c.ok && !c.skipped).length;
        const skipped = checks.filter((c) => c.skipped).length;
        const summary = `${bad ? '❌' : '✅'} ${mdText(group)}: ${checks.length - bad - skipped}/${checks.length - skipped} passed` +
            (skipped ? `, ${skipped} skipped` : '');
        out.push(`<details${bad ? ' open' : ''}><summary>${summary}</summary>`, '');
        out.push('| | Check | Detail |', '|---|---|---|');
        for (const c of checks.slice(0, MAX_ROWS)) {
            const icon = c.skipped ? '⏭️' : ok(c.ok);
            out.push(`| ${icon} | ${mdText(c.name)} | ${mdText(c.detail ?? '')} |`);
        }
        if (checks.length > MAX_ROWS)
            out.push(`| | … and ${checks.length - MAX_ROWS} more (see junit.xml) | |`);
        out.push('', '</details>', '');
    }
}
function renderCounts(r, out, maxRows) {
    if (!r.counts.length)
        return;
    const bad = r.counts.filter((c) => !c.ok);
    const sum = (k) => r.counts.reduce((s, c) => s + (c[k] ?? 0), 0);
    out.push('### Row counts', '');
    out.push(`${ok(bad.length === 0)} **${r.counts.length - bad.length} of ${r.counts.length}** tables match` +
        ` · total rows expected ${formatInt(sum('expected'))}, actual ${formatInt(sum('actual'))}`, '');
    if (!bad.length)
        return;
    out.push('| Table | Source | Expected | Actual | Diff |', '|---|---|---:|---:|---:|');
    for (const c of bad.slice(0, maxRows)) {
        out.push(`| ${mdCode(c.name)} | ${c.source} | ${formatInt(c.expected)} | ${formatInt(c.actual)} | ${diffText(c.expected, c.actual)} |`);
    }
    if (bad.length > maxRows)
        out.push(`| … and ${bad.length - maxRows} more (see drill-report.json) | | | | |`);
    if (r.counts.length > 10) {
        out.push(`| **Total (${r.counts.length} tables)** | | ${formatInt(sum('expected'))} | ${formatInt(sum('actual'))} | ${diffText(sum('expected'), sum('actual'))} |`);
    }
    out.push('');
}
function diffText(expected, actual) {
    if (expected === null || actual === null)
        return expected === null ? 'not in source' : 'missing';
    const d = actual - expected;
    const pct = expected ? ` (${d > 0 ? '+' : ''}${((d / expected) * 100).toFixed(1)} %)` : '';
    return `${d > 0 ? '+' : ''}${formatInt(d)}${pct}`;
}
function renderStructure(r, out) {
    if (!r.structure?.length)
        return;
    out.push('### Structure', '', '| Kind | Expected | Actual | Missing |', '|---|---:|---:|---|');
    for (const s of r.structure) {
        const shown = s.missing.slice(0, 10).map(mdCode).join(', ');
        const more = s.missing.length > 10 ? ` and ${s.missing.length - 10} more` : '';
        const icon = s.missing.length === 0 && s.actual >= s.expected ? '✅' : '❌';
        out.push(`| ${icon} ${mdText(s.kind)} | ${s.expected} | ${s.actual} | ${shown}${more} |`);
    }
    out.push('');
}
function renderHealth(r, out) {
    if (!r.health.length)
        return;
    out.push('### Health checks', '', '| Check | Result | Attempts | Status | Time | Last error |', '|---|---|---:|---:|---:|---|');
    for (const h of r.health) {
        const name = h.name.includes(h.url) ? mdText(h.name) : `${mdText(h.name)}<br>${mdCode(h.url)}`;
        out.push(`| ${name} | ${ok(h.ok)} | ${h.attempts} | ${h.status ?? '—'} | ${(0,duration/* formatDuration */.a3)(h.seconds)} | ${mdText(h.lastError ?? '')} |`);
    }
    out.push('');
    const failed = r.health.filter((h) => !h.ok && h.bodySnippet);
    for (const h of failed) {
        out.push(`<details><summary>Last response of ${mdText(h.name)}</summary>`, '', mdFence([h.bodySnippet ?? '']), '', '</details>', '');
    }
}
function renderRestoreErrors(r, out) {
    if (!r.restoreErrors.length)
        return;
    const fatal = r.restoreErrors.filter((e) => !e.ignored).length;
    out.push('### Restore errors', '', `${fatal} failing, ${r.restoreErrors.length - fatal} ignored by \`ignore-restore-errors\``, '', '| | Error | Ignored because |', '|---|---|---|');
    // Failing errors first, so the cap never hides one behind ignored ones.
    const ordered = [...r.restoreErrors].sort((a, b) => Number(a.ignored) - Number(b.ignored));
    for (const e of ordered.slice(0, MAX_ROWS)) {
        out.push(`| ${e.ignored ? '⚪' : '❌'} | ${mdText(e.message)} | ${e.ignored ? mdText(e.reason ?? '(no reason given)') : ''} |`);
    }
    if (r.restoreErrors.length > MAX_ROWS) {
        out.push(`| | … and ${r.restoreErrors.length - MAX_ROWS} more (see drill-report.json) | |`);
    }
    out.push('');
}
function renderHistory(r, out, limit) {
    const past = r.history ?? [];
    out.push('### Trend', '');
    const { flag, median } = slowerThanMedian(past, r.rtoSeconds);
    if (median !== undefined && r.rtoSeconds !== undefined) {
        out.push(flag
            ? `⚠️ **RTO ${(0,duration/* formatDuration */.a3)(r.rtoSeconds)} is slower than the median of earlier drills (${(0,duration/* formatDuration */.a3)(median)}) by more than 25 %.**`
            : `RTO ${(0,duration/* formatDuration */.a3)(r.rtoSeconds)} against a median of ${(0,duration/* formatDuration */.a3)(median)} over earlier drills.`, '');
    }
    const points = [
        ...past,
        { startedAt: r.startedAt, rtoSeconds: r.rtoSeconds, rpoSeconds: r.rpoSeconds, status: r.status },
    ].slice(-limit);
    for (const [key, label] of [
        ['rtoSeconds', 'RTO'],
        ['rpoSeconds', 'RPO'],
    ]) {
        const chart = xyChart(points, key, label);
        if (chart)
            out.push(chart, '');
    }
}
/**
 * One mermaid xychart-beta line per objective: RPO (hours) and RTO (minutes) differ by orders of
 * magnitude, so a shared axis would flatten RTO to zero.
 */
function xyChart(points, key, label) {
    const usable = points.filter((p) => typeof p[key] === 'number' && Number.isFinite(p[key]));
    if (usable.length < 2)
        return undefined;
    const max = Math.max(...usable.map((p) => p[key]));
    const [unit, div] = max >= 7200 ? ['hours', 3600] : max >= 120 ? ['minutes', 60] : ['seconds', 1];
    const values = usable.map((p) => Math.round((p[key] / div) * 100) / 100);
    const labels = usable.map((p) => `"${p.startedAt.slice(5, 16).replace('T', ' ').replace(/["\\]/g, '')}"`);
    return [
        '```mermaid',
        'xychart-beta',
        `  title "${label} of the last ${usable.length} drills (${unit})"`,
        `  x-axis [${labels.join(', ')}]`,
        `  y-axis "${unit}"`,
        `  line [${values.join(', ')}]`,
        '```',
    ].join('\n');
}
function spanSeconds(from, to) {
    const s = (Date.parse(to) - Date.parse(from)) / 1000;
    return Number.isFinite(s) ? s : undefined;
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/report/write.js







const REPORT_FILES = {
    json: 'drill-report.json',
    markdown: 'drill-report.md',
    junit: 'junit.xml',
};
/**
 * Writes drill-report.json, drill-report.md and junit.xml. Every string goes through `redact`
 * (and URL passwords are always masked) before rendering and again on the finished text, so a
 * secret cannot reach a report file even when escaping would have changed it. Each file is
 * written to a temp name and renamed, so a crash never leaves a half report that looks whole.
 */
async function writeDrillReport(dir, report, options = {}) {
    const given = options.redact;
    const redact = (s) => (0,logger/* redactUrlPasswords */.BM)(given ? given(s) : s);
    const clean = redactDeep(report, redact);
    await (0,promises_.mkdir)(dir, { recursive: true, mode: 0o700 });
    const paths = {
        json: (0,external_node_path_.join)(dir, REPORT_FILES.json),
        markdown: (0,external_node_path_.join)(dir, REPORT_FILES.markdown),
        junit: (0,external_node_path_.join)(dir, REPORT_FILES.junit),
    };
    await writePrivate(paths.json, redact(JSON.stringify(clean, null, 2) + '\n'));
    await writePrivate(paths.markdown, renderMarkdown(clean, { redact }));
    await writePrivate(paths.junit, redact(renderJUnit(clean)));
    // ajv (the schema validator) loads only when a report is written
    const { validateDrillReport } = await Promise.all(/* import() */[__webpack_require__.e(210), __webpack_require__.e(612)]).then(__webpack_require__.bind(__webpack_require__, 85612));
    return { ...paths, problems: validateDrillReport(clean) };
}
async function writePrivate(path, text) {
    const tmp = `${path}.${process.pid}.${(0,external_node_crypto_.randomBytes)(4).toString('hex')}.tmp`;
    try {
        await (0,promises_.writeFile)(tmp, text, { mode: 0o600, flag: 'wx' });
        await (0,promises_.rename)(tmp, path);
    }
    catch (e) {
        await (0,promises_.rm)(tmp, { force: true });
        throw e;
    }
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/work-dir.js
var work_dir = __webpack_require__(43150);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/drill.js
/**
 * The restore drill: fetch and verify the newest recovery point, restore it into a scratch
 * database, migrate, boot the app on it, prove it healthy, compare structure and counts, and time
 * every phase. Whatever happens, what dbdrill started is stopped and a report is written.
 *
 * This file only runs the phases and decides the verdict. Each engine's half (target safety,
 * restore, checks) lives in `engines/<engine>/`; the engine-neutral phases in `drill/`.
 */
















/** The report's history keeps the last drills; the store's history file keeps more. */
const HISTORY_IN_REPORT = 20;
async function drill(deps, options) {
    if (!deps.decrypt)
        deps = { ...deps, decrypt: await (0,encryption/* decryptHook */.b9)(deps.logger, options, deps.label) };
    const recorder = new DrillRecorder(deps, options.name);
    const started = { drills: [] };
    let thrown;
    try {
        await runPhases(deps, options, recorder, started);
    }
    catch (err) {
        thrown = err;
        recordUnexpected(recorder, err, deps.signal);
    }
    finally {
        await stopEverything(deps, options, recorder, started, thrown);
    }
    const { cancelled } = decideVerdict(recorder, options, deps.clock.now(), { thrown, signal: deps.signal });
    const { report } = recorder;
    const { store } = started;
    const historyName = options.historyName ?? options.name;
    const history = store && historyName ? await (0,catalog/* readDrillHistory */.wA)(store, historyName).catch(() => []) : [];
    if (history.length)
        report.history = history.slice(-HISTORY_IN_REPORT);
    const written = await writeDrillReport(options.reportDir, report, { redact: deps.redact });
    // A usage error (a store that does not exist, a bad option) is no drill to chart, and appending
    // would create the store the user mistyped.
    if (store && historyName && !(thrown instanceof errors/* ConfigError */.xL)) {
        await (0,catalog/* appendDrillHistory */.Ag)(store, historyName, toHistoryEntry(report)).catch((e) => deps.logger.warning(`could not append to the drill history: ${(0,errors/* messageOf */.bD)(e)}`));
    }
    const result = toDrillResult(report, options.reportDir, written.json);
    deps.logger.info(`drill ${report.status}: RTO ${result.rtoSeconds === null ? 'not measured' : `${result.rtoSeconds} s`}, ` +
        `RPO ${result.rpoSeconds === null ? 'unknown' : `${result.rpoSeconds} s`}; report in ${options.reportDir}`);
    if (report.error)
        deps.logger.info(`drill stopped in ${report.error.phase}: ${report.error.message}${report.error.hint ? `\n  next: ${report.error.hint}` : ''}`);
    throwUnlessPassed(result, { thrown, cancelled, signal: deps.signal });
    return result;
}
/** The phases in order; the first that throws ends the drill (the checks it recorded remain). */
async function runPhases(deps, options, recorder, started) {
    const { report } = recorder;
    started.work = await (0,work_dir/* makeWorkDir */.d)('drill');
    const workDir = started.work.dir;
    started.store = options.bundle ? undefined : deps.openStore(options.store);
    // 1. fetch + verify, in one streaming pass that also extracts the dumps and the secret store;
    // a throwaway target starts meanwhile, as soon as the manifest says what it needs
    if (!options.targetUrl && options.provision)
        started.early = new EarlyTarget((request, signal) => provisionFor(deps, options, request, signal), deps.logger, deps.signal, options.component);
    const early = started.early;
    const { verified, backupEnd } = await fetchAndVerify(deps, options, started.store, recorder, workDir, early && ((m) => early.onManifest(m)));
    report.bundleCreatedAt = backupEnd?.toISOString();
    if (backupEnd)
        report.rpoSeconds = roundSeconds((recorder.startedAt.getTime() - backupEnd.getTime()) / 1000);
    started.drills = planEngines(deps, options, recorder, verified, workDir, early);
    const drills = started.drills;
    // 2. provision: a scratch target per engine, refusing the source and non-empty databases
    await recorder.phase('provision', async () => {
        const targets = [];
        for (const [i, d] of drills.entries()) {
            await d.prepareTarget((t) => {
                if (!targets[i])
                    deps.logger.info(`${d.engine} target: ${t.display}`);
                targets[i] = t;
                report.target = { ...targets[0], display: targets.map((x) => x.display).join(' + ') };
            });
        }
        const version = report.target?.serverVersion ? `, server ${report.target.serverVersion}` : '';
        recorder.describe('provision', `${report.target?.kind ?? 'target'} ${report.target?.display ?? ''}${version}`);
    });
    const secretsDir = secretsDirOf(verified, workDir);
    const env = {
        ...Object.assign({}, ...drills.map((d) => d.appEnv())),
        DATABASE_URL: drills[0].targetUrl(),
        // Masks the restored secret values; with secrets-env, their .env variables join the app's and migrate-command's env.
        ...(await prepareDrillSecrets(deps.logger, options, secretsDir, report.notes)),
    };
    // 3. restore
    await recorder.phase('restore', async () => {
        for (const d of drills)
            await d.restore();
    });
    // 4. migrate, and pair the restored KEK with the restored database
    if (options.migrateCommand || options.postRestoreSql.length) {
        await recorder.phase('migrate', () => migrate(deps, recorder, options, env, drills));
    }
    else
        recorder.skip('migrate', 'no migrate-command or post-restore-sql');
    const restoredAtMs = deps.clock.monotonicMs();
    if ((0,kek/* kekCheckWanted */.tC)(options)) {
        const kek = { targetUrl: drills[0].targetUrl(), workDir, extracted: verified.extracted, env };
        await recorder.phase('kek check', () => runDrillKekCheck(deps, options, kek, recorder.check));
    }
    // 5 + 6. boot the app and wait until healthy: RTO ends here
    const checks = options.healthChecks;
    const appEnv = { ...env, ...(secretsDir ? { DBDRILL_SECRETS_DIR: secretsDir } : {}) };
    await bootApp(deps, recorder, options, appEnv, (app) => (started.app = app));
    const healthyAtMs = await waitUntilHealthy(deps, recorder, checks, options.healthTimeoutSeconds, started.app);
    report.rtoSeconds = recorder.secondsSince(recorder.t0, healthyAtMs ?? restoredAtMs);
    // 7. structure and data checks, every engine's before judging them
    await recorder.phase('checks', async () => {
        for (const d of drills)
            await d.checkRestored();
        const judged = report.checks.filter((c) => c.group === 'structure' || c.group === 'data');
        for (const c of judged)
            deps.logger.info(`[${c.ok ? ' ok ' : 'FAIL'}] ${c.name}: ${c.detail ?? ''}`);
        const failed = judged.filter((c) => !c.ok);
        if (failed.length)
            throw new errors/* CheckFailed */.EC(`${failed.length} structure/data check(s) failed: ${failed.map((c) => c.name).join(', ')}`);
    });
    // 8. objectives
    checkObjectives(recorder, options);
}
/** Each engine whose dump the bundle holds; a bundle with none has nothing to drill. */
function planEngines(deps, options, recorder, verified, workDir, early) {
    const context = {
        deps: {
            ...deps,
            provisionPostgres: (request) => early?.take(request) ?? provisionFor(deps, options, request, deps.signal),
        },
        ledger: recorder,
        workDir,
    };
    const drills = (deps.engines ?? registry/* ENGINES */.u)
        .map((e) => e.planDrill(verified, options, context))
        .filter((d) => d !== undefined);
    if (!drills.length)
        throw new errors/* CheckFailed */.EC('the bundle holds no database dump to restore');
    return drills;
}
function provisionFor(deps, options, request, signal) {
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
function secretsDirOf(verified, workDir) {
    const hasSecrets = Object.keys(verified.extracted ?? {}).some((m) => m.startsWith('secrets/'));
    return hasSecrets ? (0,external_node_path_.join)(workDir, 'bundle', 'secrets') : undefined;
}
/** The app first (it holds connections), then every target, then the work directory. */
async function stopEverything(deps, options, recorder, started, thrown) {
    const { app } = started;
    if (app) {
        const alive = app.alive();
        await app.stop();
        const failedRun = thrown !== undefined || recorder.report.checks.some((c) => !c.ok);
        if (failedRun || alive !== true)
            recorder.report.appLogTail = app.tail().slice(-100);
    }
    const keep = options.keepTarget && !deps.signal?.aborted;
    // Independent removals (a scratch cluster's data directory, the extracted bundle) run at once.
    await Promise.all([
        ...started.drills.map((d) => d.teardown(keep)),
        started.early?.discard(),
        started.work?.remove().catch(() => undefined),
    ]);
}


/***/ })

};
