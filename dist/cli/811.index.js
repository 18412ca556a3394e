export const id = 811;
export const ids = [811,3,88];
export const modules = {

/***/ 20811:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  fleetBackupJson: () => (/* binding */ fleetBackupJson),
  fleetDrillJson: () => (/* binding */ fleetDrillJson),
  fleetFailureJson: () => (/* binding */ fleetFailureJson),
  fleetVerifyJson: () => (/* binding */ fleetVerifyJson),
  runBackupFleet: () => (/* binding */ runBackupFleet),
  runDrillFleet: () => (/* binding */ runDrillFleet),
  runVerifyFleet: () => (/* binding */ runVerifyFleet)
});

// EXTERNAL MODULE: ./build/ncc-src/src/core/backup.js
var backup = __webpack_require__(95003);
// EXTERNAL MODULE: ./build/ncc-src/src/core/catalog/index.js + 6 modules
var catalog = __webpack_require__(39100);
// EXTERNAL MODULE: ./build/ncc-src/src/core/components.js
var components = __webpack_require__(46065);
// EXTERNAL MODULE: ./build/ncc-src/src/core/engines/postgres/connection.js + 1 modules
var connection = __webpack_require__(68665);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/engines/postgres/cluster-databases.js
/**
 * The databases of one PostgreSQL cluster, for a fleet backup (`databases: all`): read from
 * `pg_database` through the one connection the user gave, and that connection's URL pointed at
 * each member in turn.
 */

/** Every database of the cluster `url` connects to, by name. */
async function listClusterDatabases(url, input) {
    const client = await (0,connection/* connectPg */.QB)(url, input);
    try {
        const { rows } = await client.query('SELECT datname, datallowconn AND NOT datistemplate AS dumpable FROM pg_database ORDER BY datname');
        return rows.map((r) => ({ name: r.datname, dumpable: r.dumpable }));
    }
    finally {
        await client.end().catch(() => undefined);
    }
}
/** The same connection pointed at another database of the cluster (path, or a dbname= parameter). */
function urlForDatabase(url, database) {
    const u = new URL(url);
    if (u.searchParams.has('dbname'))
        u.searchParams.set('dbname', database);
    u.pathname = '/' + encodeURIComponent(database);
    return u.toString();
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/errors.js
var core_errors = __webpack_require__(1454);
// EXTERNAL MODULE: ./build/ncc-src/src/core/bundle/naming.js
var naming = __webpack_require__(12860);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/fleet/record.js
/**
 * The fleet record, `<name>.fleet.json` in the store: which databases a fleet backup covered, in
 * which mode, under which bundle names and component ids. A fleet drill reads it, so drilling
 * `databases: all` never needs a connection to production.
 */


const FLEET_RECORD_SUFFIX = '.fleet.json';
const FLEET_RECORD_FORMAT = 'dbdrill-fleet';
function fleetRecordKey(name) {
    return name + FLEET_RECORD_SUFFIX;
}
async function writeFleetRecord(store, record) {
    await store.writeText(fleetRecordKey(record.name), JSON.stringify(record, null, 2) + '\n');
}
/** Undefined when the store holds no record for `name`; a record that does not parse is a ConfigError. */
async function readFleetRecord(store, name) {
    const key = fleetRecordKey(name);
    const text = await store.readText(key);
    if (text === undefined)
        return undefined;
    let doc;
    try {
        doc = JSON.parse(text);
    }
    catch (e) {
        throw new core_errors/* ConfigError */.xL(`the fleet record ${key} in ${store.displayUri} is not JSON: ${e.message}`);
    }
    const ok = doc.format === FLEET_RECORD_FORMAT &&
        (doc.mode === 'separate' || doc.mode === 'one-recovery-point') &&
        Array.isArray(doc.members) &&
        doc.members.every((m) => typeof m?.database === 'string' && typeof m?.name === 'string');
    if (!ok) {
        throw new core_errors/* ConfigError */.xL(`the fleet record ${key} in ${store.displayUri} is not a dbdrill fleet record (format ${FLEET_RECORD_FORMAT}, mode, members); run the fleet backup again to rewrite it`);
    }
    return doc;
}
/**
 * A member's bundle name: `<name>-<database>`, with every character a bundle name cannot hold
 * replaced by `_` and cut to the 100 characters a name may have.
 */
function memberBundleName(name, database) {
    const safe = database.replace(/[^A-Za-z0-9._-]/g, '_');
    return (0,naming/* validateName */.yS)(`${name}-${safe}`.slice(0, 100));
}
/** Member bundle names must stay apart: `a b` and `a_b` would share one after sanitising. */
function assertDistinctNames(members, input) {
    const seen = new Map();
    for (const m of members) {
        const other = seen.get(m.name);
        if (other !== undefined) {
            throw new core_errors/* ConfigError */.xL(`${input}: the databases "${other}" and "${m.database}" would share the bundle name "${m.name}" (characters other than letters, digits, ".", "_" and "-" become "_"); back them up in separate runs with different names`);
        }
        seen.set(m.name, m.database);
    }
}
/**
 * The members to drill or verify and the mode, from the selection and the store's fleet record
 * (never from the cluster: a drill or verify of `all` needs no connection to production).
 */
function resolveRecordedMembers(name, selection, record, where, label, verb = 'drill') {
    if (record && selection.mode && record.mode !== selection.mode) {
        throw new core_errors/* ConfigError */.xL(`${label('fleet-mode')} is "${selection.mode}" but the fleet record ${name}.fleet.json in ${where} says "${record.mode}"; remove ${label('fleet-mode')} (the record knows it)`);
    }
    const mode = selection.mode ?? record?.mode ?? 'separate';
    const recorded = record?.members.map((m) => m.database) ?? [];
    if (selection.databases === 'all') {
        if (!record) {
            throw new core_errors/* ConfigError */.xL(`${label('databases')}: all needs the fleet record ${name}.fleet.json in ${where}, which a fleet backup writes; none is there. Run the fleet backup first, or name the databases`);
        }
        const unknown = selection.exclude.filter((n) => !recorded.includes(n));
        if (unknown.length) {
            throw new core_errors/* ConfigError */.xL(`${label('exclude-databases')} names ${unknown.map((n) => `"${n}"`).join(', ')}, which the fleet ${name} does not have; its members: ${recorded.join(', ')}`);
        }
        const members = record.members.filter((m) => !selection.exclude.includes(m.database));
        if (!members.length) {
            throw new core_errors/* ConfigError */.xL(`${label('databases')}: all leaves no member to ${verb} after ${label('exclude-databases')}; the fleet's members: ${recorded.join(', ')}`);
        }
        return { mode, members };
    }
    if (record) {
        const unknown = selection.databases.filter((n) => !recorded.includes(n));
        if (unknown.length) {
            throw new core_errors/* ConfigError */.xL(`${label('databases')} names ${unknown.map((n) => `"${n}"`).join(', ')}, which the fleet ${name} does not have; its members: ${recorded.join(', ')}`);
        }
        return { mode, members: selection.databases.map((n) => record.members.find((m) => m.database === n)) };
    }
    if (mode === 'one-recovery-point') {
        throw new core_errors/* ConfigError */.xL(`${label('fleet-mode')} one-recovery-point needs the fleet record ${name}.fleet.json in ${where} (it maps each database to its component); none is there. Run the fleet backup first`);
    }
    return {
        mode,
        members: selection.databases.map((database) => ({ database, name: memberBundleName(name, database) })),
    };
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/duration.js
var duration = __webpack_require__(29353);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/fleet/summary.js
/**
 * The fleet summary: one row per member (database, bundle, bundle age, last drill, RTO and RPO
 * against their budgets, status and why), as JSON (the `fleet-json` output, `fleet` in --json),
 * as Markdown (the job summary, `fleet-summary.md`) and as plain text (the CLI).
 */

const FLEET_SUMMARY_FORMAT = 'dbdrill-fleet-summary';
function makeSummary(command, name, mode, members, at) {
    const failed = members.filter((m) => m.status !== 'passed').map((m) => m.database);
    return {
        format: FLEET_SUMMARY_FORMAT,
        formatVersion: 1,
        command,
        name,
        mode,
        ok: failed.length === 0,
        generatedAt: at.toISOString(),
        failed,
        members,
    };
}
const HEADERS = ['database', 'bundle', 'bundle age', 'last drill', 'RTO / budget', 'RPO / budget', 'status'];
/** Verify measures no RTO and runs no drill: the bundle age against max-age is its RPO column. */
const VERIFY_HEADERS = ['database', 'bundle', 'RPO (age) / max-age', 'status'];
function headers(s) {
    return s.command === 'verify' ? VERIFY_HEADERS : HEADERS;
}
function cells(m, command) {
    if (command === 'verify') {
        return [
            m.database,
            m.bundle ?? '—',
            vsBudget(m.rpoSeconds, m.rpoBudgetSeconds),
            m.note ? `${m.status} (${m.note})` : m.status,
        ];
    }
    return [
        m.database,
        m.bundle ?? '—',
        m.bundleAgeSeconds === null ? '—' : (0,duration/* formatDuration */.a3)(m.bundleAgeSeconds),
        m.lastDrill ? `${m.lastDrill.status} ${m.lastDrill.at.replace(/\.\d{3}Z$/, 'Z')}` : 'never',
        vsBudget(m.rtoSeconds, m.rtoBudgetSeconds),
        vsBudget(m.rpoSeconds, m.rpoBudgetSeconds),
        m.status,
    ];
}
/** `12s / 45m ok`, `2h / 1h over`, `12s` without a budget, `—` when not measured. */
function vsBudget(actual, budget) {
    if (actual === null)
        return budget === undefined ? '—' : `— / ${(0,duration/* formatDuration */.a3)(budget)}`;
    if (budget === undefined)
        return (0,duration/* formatDuration */.a3)(actual);
    return `${(0,duration/* formatDuration */.a3)(actual)} / ${(0,duration/* formatDuration */.a3)(budget)} ${actual <= budget ? 'ok' : 'over'}`;
}
function title(s) {
    const passed = s.members.length - s.failed.length;
    return `fleet ${s.name} (${s.mode}) ${s.command}: ${passed} of ${s.members.length} passed`;
}
function fleetMarkdown(s) {
    const esc = (t) => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');
    const lines = [
        `### dbdrill ${title(s)}`,
        '',
        `| ${headers(s).join(' | ')} |`,
        `| ${headers(s)
            .map(() => '---')
            .join(' | ')} |`,
        ...s.members.map((m) => `| ${cells(m, s.command).map(esc).join(' | ')} |`),
    ];
    const failures = s.members.filter((m) => m.status !== 'passed');
    if (failures.length) {
        lines.push('', '**Failed:**', '');
        for (const m of failures)
            lines.push(`- **${esc(m.database)}**: ${esc(m.reason ?? m.status)}`);
    }
    return lines.join('\n') + '\n';
}
/** The same table in aligned plain text, for a terminal. */
function fleetText(s) {
    const rows = [headers(s), ...s.members.map((m) => cells(m, s.command))];
    const widths = headers(s).map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    const out = [
        title(s),
        ...rows.map((r) => r
            .map((c, i) => c.padEnd(widths[i]))
            .join('  ')
            .trimEnd()),
    ];
    for (const m of s.members.filter((x) => x.status !== 'passed'))
        out.push(`${m.database} failed: ${m.reason ?? m.status}`);
    return out.join('\n') + '\n';
}
/** The exit-1 message of a fleet run: how many members failed, each with its reason. */
function failedMembersMessage(s) {
    const failed = s.members.filter((m) => m.status !== 'passed');
    return `fleet ${s.command}: ${failed.length} of ${s.members.length} member(s) failed: ${failed
        .map((m) => `${m.database} (${m.reason ?? m.status})`)
        .join('; ')}`;
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/fleet/backup-fleet.js
/**
 * A fleet backup: the members resolved (every database of the cluster, named ones, or the
 * database-url lines), then the backup use case once per member (separate) or once for all
 * (one-recovery-point), the fleet record written, and the summary built. Members of a separate
 * fleet are backed up one after another and a failing member does not stop the others.
 */







/** The databases a fleet backup covers, in order, each with its URL and bundle name. */
async function resolveBackupMembers(options, selection, label, list = listClusterDatabases) {
    const mode = selection.mode ?? 'separate';
    let members;
    if (selection.fromUrls) {
        members = (options.databases ?? []).map((d, i) => {
            const database = databaseOfUrl(d.url);
            if (!database) {
                throw new core_errors/* ConfigError */.xL(`${label('database-url')} line ${i + 1} names no database; a fleet names each member by its database (postgres://host/db, mongodb://host/db)`);
            }
            return { database, name: memberBundleName(options.name, database), engine: d.engine, url: d.url };
        });
        const dup = members.find((m, i) => members.findIndex((x) => x.database === m.database) !== i);
        if (dup) {
            throw new core_errors/* ConfigError */.xL(`${label('database-url')} names the database "${dup.database}" twice; a fleet names each member by its database, so give each once`);
        }
    }
    else {
        const existing = await list(options.databaseUrl, label('database-url'));
        const names = existing.map((d) => d.name);
        const known = (n) => names.includes(n);
        let chosen;
        if (selection.databases === 'all') {
            const unknown = selection.exclude.filter((n) => !known(n));
            if (unknown.length) {
                throw new core_errors/* ConfigError */.xL(`${label('exclude-databases')} names ${unknown.map((n) => `"${n}"`).join(', ')}, which the cluster does not have; its databases: ${names.join(', ')}`);
            }
            chosen = existing.filter((d) => d.dumpable && !selection.exclude.includes(d.name)).map((d) => d.name);
            if (!chosen.length) {
                throw new core_errors/* ConfigError */.xL(`${label('databases')}: all leaves no database to back up after ${label('exclude-databases')} (${selection.exclude.join(', ') || 'none'}) and the templates; the cluster's databases: ${names.join(', ')}`);
            }
        }
        else {
            chosen = selection.databases;
            const unknown = chosen.filter((n) => !known(n));
            if (unknown.length) {
                throw new core_errors/* ConfigError */.xL(`${label('databases')} names ${unknown.map((n) => `"${n}"`).join(', ')}, which the cluster does not have; its databases: ${names.join(', ')}`);
            }
            const closed = chosen.filter((n) => !existing.find((d) => d.name === n).dumpable);
            if (closed.length) {
                throw new core_errors/* ConfigError */.xL(`${label('databases')} names ${closed.map((n) => `"${n}"`).join(', ')}: a template or a database that does not accept connections, which pg_dump cannot dump; leave it out`);
            }
        }
        members = chosen.map((database) => ({
            database,
            name: memberBundleName(options.name, database),
            engine: 'postgres',
            url: urlForDatabase(options.databaseUrl, database),
        }));
    }
    if (mode === 'separate')
        assertDistinctNames(members, label('databases'));
    else {
        const ids = (0,components/* componentIds */.Ao)(members.map((m) => m.engine));
        members.forEach((m, i) => (m.component = ids[i]));
    }
    return members;
}
/** The database a URL names (its path, or a dbname= parameter), decoded; '' when none. */
function databaseOfUrl(url) {
    try {
        const u = new URL(url);
        return decodeURIComponent(u.pathname.replace(/^\//, '')) || u.searchParams.get('dbname') || '';
    }
    catch {
        return '';
    }
}
async function backupFleet(deps, options, selection, policy) {
    const label = deps.label ?? ((n) => n);
    const { logger, clock } = deps;
    const t0 = clock.monotonicMs();
    const mode = selection.mode ?? 'separate';
    const members = await resolveBackupMembers(options, selection, label);
    logger.info(`fleet ${options.name} (${mode}): ${members.length} database(s): ${members.map((m) => m.database).join(', ')}`);
    const store = deps.openStore(options.store);
    const done = [];
    if (mode === 'separate') {
        for (const member of members) {
            (0,core_errors/* throwIfCancelled */.dZ)(deps.signal);
            logger.startGroup(`Fleet member ${member.database}: backup as ${member.name}`);
            try {
                const result = await (0,backup.backupAndPrune)(deps, {
                    ...options,
                    name: member.name,
                    engine: member.engine,
                    databaseUrl: member.url,
                    databases: [{ engine: member.engine, url: member.url }],
                }, policy);
                done.push({ member, result });
            }
            catch (error) {
                (0,core_errors/* throwIfCancelled */.dZ)(deps.signal);
                logger.error(`fleet member ${member.database}: ${(0,core_errors/* messageOf */.bD)(error)}`);
                done.push({ member, error });
            }
            finally {
                logger.endGroup();
            }
        }
    }
    else {
        // One recovery point: one backup, so a failure of any dump fails it as a joint backup does.
        const result = await (0,backup.backupAndPrune)(deps, {
            ...options,
            engine: members[0].engine,
            databaseUrl: members[0].url,
            databases: members.map((m) => ({ engine: m.engine, url: m.url })),
        }, policy);
        for (const member of members)
            done.push({ member, result });
    }
    const stored = done.some((d) => d.result);
    if (stored)
        await writeFleetRecord(store, await nextRecord(store, options.name, mode, members, selection, clock.now()));
    const now = clock.now();
    const rows = [];
    for (const d of done)
        rows.push(await backupRow(store, d, now, mode === 'separate'));
    const summary = makeSummary('backup', options.name, mode, rows, now);
    const out = {
        ok: summary.ok,
        name: options.name,
        mode,
        members: done,
        summary,
        durationSeconds: Math.round(clock.monotonicMs() - t0) / 1000,
    };
    if (!summary.ok) {
        const errors = done.map((d) => d.error).filter((e) => e !== undefined);
        // The same usage mistake for every member (a store that is not writable) is a usage error.
        if (!stored && errors.every((e) => e instanceof core_errors/* ConfigError */.xL))
            throw errors[0];
        throw new core_errors/* CheckFailed */.EC(`fleet backup: ${summary.failed.length} of ${members.length} member(s) failed (${summary.failed.join(', ')}); the others were stored`, out);
    }
    return out;
}
/**
 * The record after this run. `all` (and a list of URLs) is the whole fleet, so it replaces the
 * record; named databases of a separate fleet are a part of it, so they join the members already
 * recorded (a later `databases: beta` backup must not drop alpha and gamma from the next
 * `databases: all` drill). A joint bundle holds exactly its members, so it always replaces.
 */
async function nextRecord(store, name, mode, members, selection, now) {
    const fresh = members.map(({ database, name: n, component }) => ({
        database,
        name: n,
        ...(component ? { component } : {}),
    }));
    const partial = mode === 'separate' && Array.isArray(selection.databases) && !selection.fromUrls;
    const previous = partial ? await readFleetRecord(store, name).catch(() => undefined) : undefined;
    const kept = previous?.mode === mode
        ? previous.members.filter((m) => !fresh.some((f) => f.database === m.database))
        : [];
    return {
        format: 'dbdrill-fleet',
        formatVersion: 1,
        name,
        mode,
        updatedAt: now.toISOString(),
        // merged members are listed by name; a fresh list keeps its own order (the URLs', or pg_database's)
        members: kept.length ? [...kept, ...fresh].sort((a, b) => a.database.localeCompare(b.database)) : fresh,
    };
}
async function backupRow(store, d, now, separate) {
    const history = await (0,catalog/* readDrillHistory */.wA)(store, d.member.name).catch(() => []);
    const last = history[history.length - 1];
    const ended = d.result ? Date.parse(d.result.endedAt) : NaN;
    return {
        database: d.member.database,
        name: separate ? d.member.name : (d.result?.name ?? d.member.name),
        ...(d.member.component ? { component: d.member.component } : {}),
        bundle: d.result?.key,
        bundleAgeSeconds: Number.isNaN(ended) ? null : Math.max(0, Math.round((now.getTime() - ended) / 1000)),
        ...(last ? { lastDrill: { status: last.status, at: last.startedAt } } : {}),
        rtoSeconds: last?.rtoSeconds ?? null,
        rpoSeconds: last?.rpoSeconds ?? null,
        status: d.result ? 'passed' : 'failed',
        ...(d.error !== undefined ? { reason: (0,core_errors/* messageOf */.bD)(d.error) } : {}),
    };
}

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(51455);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
// EXTERNAL MODULE: ./build/ncc-src/src/core/drill.js + 19 modules
var drill = __webpack_require__(93295);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/fleet/drill-fleet.js
/**
 * A fleet drill: the members from the store's fleet record (or the names given), then the drill
 * use case once per member, one after another, each with its own report directory and history.
 * A failing member is recorded and the others are still drilled; the fleet fails if any did.
 * Separate fleets drill each member's newest bundle; a one-recovery-point fleet drills the joint
 * bundle once per member, each restoring only its own PostgreSQL component into its own target.
 */







const FLEET_SUMMARY_FILES = { json: 'fleet-summary.json', markdown: 'fleet-summary.md' };
async function drillFleet(deps, options, selection) {
    const label = deps.label ?? ((n) => n);
    const { logger } = deps;
    const name = options.name;
    const store = deps.openStore(options.store);
    const record = await readFleetRecord(store, name);
    const { mode, members } = resolveRecordedMembers(name, selection, record, store.displayUri, label, 'drill');
    logger.info(`fleet ${name} (${mode}): drilling ${members.length} member(s): ${members.map((m) => m.database).join(', ')}`);
    // One recovery point means one bundle: every member drills the joint bundle that is newest now.
    const pinned = mode === 'one-recovery-point' ? (await (0,catalog/* resolveNewest */.zz)(store, name)).key : undefined;
    if (pinned)
        logger.info(`fleet ${name}: every member drills ${(0,catalog/* displayOf */.E3)(store, pinned)}`);
    const done = [];
    for (const member of members) {
        (0,core_errors/* throwIfCancelled */.dZ)(deps.signal);
        logger.startGroup(`Fleet member ${member.database}: drill`);
        const memberOptions = {
            ...options,
            reportDir: (0,external_node_path_.join)(options.reportDir, member.name),
            ...(mode === 'separate'
                ? { name: member.name }
                : { name, component: member.component, historyName: member.name, bundleKey: pinned }),
        };
        try {
            done.push({ member, result: await (0,drill.drill)(deps, memberOptions) });
        }
        catch (error) {
            if (deps.signal?.aborted)
                throw error;
            logger.error(`fleet member ${member.database}: ${(0,core_errors/* messageOf */.bD)(error)}`);
            done.push({ member, result: core_errors/* CheckFailed */.EC.resultOf(error, 'report'), error });
        }
        finally {
            logger.endGroup();
        }
    }
    const rows = done.map((d) => drillRow(d, options));
    const summary = makeSummary('drill', name, mode, rows, deps.clock.now());
    const worst = (pick) => {
        const values = done.map((d) => (d.result ? pick(d.result) : null)).filter((v) => v !== null);
        return values.length ? Math.max(...values) : null;
    };
    const out = {
        ok: summary.ok,
        status: summary.ok ? 'passed' : 'failed',
        name,
        mode,
        members: done,
        rtoSeconds: worst((r) => r.rtoSeconds),
        rpoSeconds: worst((r) => r.rpoSeconds),
        summary,
        reportDir: options.reportDir,
    };
    await (0,promises_.mkdir)(options.reportDir, { recursive: true });
    const redact = deps.redact ?? ((t) => t);
    await (0,promises_.writeFile)((0,external_node_path_.join)(options.reportDir, FLEET_SUMMARY_FILES.json), redact(JSON.stringify(summary, null, 2)) + '\n');
    await (0,promises_.writeFile)((0,external_node_path_.join)(options.reportDir, FLEET_SUMMARY_FILES.markdown), redact(fleetMarkdown(summary)));
    if (!summary.ok) {
        throw new core_errors/* CheckFailed */.EC(failedMembersMessage(summary), out);
    }
    return out;
}
function drillRow(d, options) {
    const r = d.result;
    const report = r?.report;
    const reason = d.error === undefined && r?.ok
        ? undefined
        : report?.error
            ? `${report.error.phase}: ${report.error.message}`
            : d.error !== undefined
                ? (0,core_errors/* messageOf */.bD)(d.error)
                : r?.checks.failures.join('; ');
    const bundle = r?.bundle ?? report?.bundle;
    return {
        database: d.member.database,
        name: d.member.name,
        ...(d.member.component ? { component: d.member.component } : {}),
        ...(bundle ? { bundle: bundle.slice(bundle.lastIndexOf('/') + 1) } : {}),
        bundleAgeSeconds: r?.rpoSeconds ?? null,
        ...(report ? { lastDrill: { status: report.status, at: report.finishedAt } } : {}),
        rtoSeconds: r?.rtoSeconds ?? null,
        ...(options.rtoSeconds !== undefined ? { rtoBudgetSeconds: options.rtoSeconds } : {}),
        rpoSeconds: r?.rpoSeconds ?? null,
        ...(options.rpoSeconds !== undefined ? { rpoBudgetSeconds: options.rpoSeconds } : {}),
        status: r ? r.status : 'failed',
        ...(reason ? { reason } : {}),
        reportDir: r?.reportDir ?? (0,external_node_path_.join)(options.reportDir, d.member.name),
    };
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/encryption.js + 1 modules
var encryption = __webpack_require__(77863);
// EXTERNAL MODULE: ./build/ncc-src/src/core/verify.js
var verify = __webpack_require__(17088);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/fleet/verify-fleet.js





/** What a one-recovery-point member row says: its verdict is the joint bundle's. */
const SHARED_VERDICT_NOTE = "the joint bundle's verdict, shared by every member";
async function verifyOne(deps, options, name) {
    try {
        return { result: await (0,verify.verify)(deps, { ...options, bundle: undefined, name }) };
    }
    catch (error) {
        if (deps.signal?.aborted)
            throw error;
        return { result: core_errors/* CheckFailed */.EC.resultOf(error, 'layers'), error };
    }
}
async function verifyFleet(deps, options, selection) {
    const label = deps.label ?? ((n) => n);
    const { logger } = deps;
    const name = options.name;
    const store = deps.openStore(options.store);
    const record = await readFleetRecord(store, name);
    const { mode, members } = resolveRecordedMembers(name, selection, record, store.displayUri, label, 'verify');
    // the identity or passphrase is read once for the fleet, not once per member
    if (!deps.decrypt)
        deps = { ...deps, decrypt: await (0,encryption/* decryptHook */.b9)(logger, options, deps.label) };
    logger.info(`fleet ${name} (${mode}): verifying ${members.length} member(s): ${members.map((m) => m.database).join(', ')}`);
    const done = [];
    if (mode === 'one-recovery-point') {
        // one recovery point is one bundle: read it once, and its verdict is every member's
        (0,core_errors/* throwIfCancelled */.dZ)(deps.signal);
        logger.startGroup(`Fleet ${name}: verify the joint bundle`);
        let shared;
        try {
            shared = await verifyOne(deps, options, name);
        }
        finally {
            logger.endGroup();
        }
        if (shared.error !== undefined)
            logger.error(`fleet ${name}: ${(0,core_errors/* messageOf */.bD)(shared.error)}`);
        for (const member of members)
            done.push({ member, ...shared });
    }
    else {
        for (const member of members) {
            (0,core_errors/* throwIfCancelled */.dZ)(deps.signal);
            logger.startGroup(`Fleet member ${member.database}: verify`);
            try {
                const one = await verifyOne(deps, options, member.name);
                if (one.error !== undefined)
                    logger.error(`fleet member ${member.database}: ${(0,core_errors/* messageOf */.bD)(one.error)}`);
                done.push({ member, ...one });
            }
            finally {
                logger.endGroup();
            }
        }
    }
    const rows = done.map((d) => verifyRow(d, options, mode));
    const summary = makeSummary('verify', name, mode, rows, deps.clock.now());
    const ages = done.map((d) => d.result?.ageSeconds ?? null).filter((v) => v !== null);
    const out = {
        ok: summary.ok,
        status: summary.ok ? 'passed' : 'failed',
        name,
        mode,
        members: done,
        ageSeconds: ages.length ? Math.max(...ages) : null,
        summary,
    };
    if (!summary.ok) {
        throw new core_errors/* CheckFailed */.EC(failedMembersMessage(summary), out);
    }
    return out;
}
function verifyRow(d, options, mode) {
    const r = d.result;
    const passed = d.error === undefined && !!r?.ok;
    const reason = passed
        ? undefined
        : r?.problems.length
            ? r.problems.join('; ')
            : d.error !== undefined
                ? (0,core_errors/* messageOf */.bD)(d.error)
                : 'failed';
    const bundle = r?.key ?? r?.bundle;
    return {
        database: d.member.database,
        name: d.member.name,
        ...(d.member.component ? { component: d.member.component } : {}),
        ...(bundle ? { bundle: bundle.slice(bundle.lastIndexOf('/') + 1) } : {}),
        bundleAgeSeconds: r?.ageSeconds ?? null,
        rtoSeconds: null,
        rpoSeconds: r?.ageSeconds ?? null,
        ...(options.maxAgeSeconds !== undefined ? { rpoBudgetSeconds: options.maxAgeSeconds } : {}),
        status: passed ? 'passed' : 'failed',
        ...(reason ? { reason } : {}),
        ...(mode === 'one-recovery-point' ? { note: SHARED_VERDICT_NOTE } : {}),
    };
}

// EXTERNAL MODULE: ./build/ncc-src/src/core/notify/index.js + 10 modules
var notify = __webpack_require__(78507);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/fleet/outcomes.js
/**
 * What a fleet run tells notifications and metrics: one outcome per member, named by the member's
 * bundle name (the metrics label), and one for the fleet as a whole (the dead-man ping).
 */


function fleetOutcome(command, s, durationSeconds) {
    return {
        command,
        name: s.name,
        ok: s.ok,
        status: s.ok ? 'passed' : 'failed',
        reason: s.ok
            ? undefined
            : s.members
                .filter((m) => m.status !== 'passed')
                .map((m) => `${m.database}: ${m.reason ?? m.status}`)
                .join('\n'),
        durationSeconds,
    };
}
function fleetBackupOutcomes(r) {
    return {
        members: r.members.map((m) => m.result ? (0,notify/* backupOutcome */.hC)(m.member.name, m.result) : (0,notify/* errorOutcome */.zY)('backup', m.member.name, m.error)),
        fleet: fleetOutcome('backup', r.summary, r.durationSeconds),
    };
}
function fleetDrillOutcomes(r) {
    return {
        members: r.members.map((m) => m.error === undefined && m.result
            ? (0,notify/* drillOutcome */.qv)(m.member.name, m.result)
            : (0,notify/* errorOutcome */.zY)('drill', m.member.name, m.error)),
        fleet: fleetOutcome('drill', r.summary),
    };
}
/** One outcome per member even in one-recovery-point mode: metrics and alerts stay per database. */
function fleetVerifyOutcomes(r) {
    return {
        members: r.members.map((m) => m.error === undefined && m.result
            ? (0,notify/* verifyOutcome */.ek)(m.member.name, m.result)
            : (0,notify/* errorOutcome */.zY)('verify', m.member.name, m.error)),
        fleet: fleetOutcome('verify', r.summary),
    };
}
/** The fleet result a failed fleet run carries (members failed), or undefined (it ended before). */
function fleetResultOf(error) {
    return core_errors/* CheckFailed */.EC.resultOf(error, 'summary');
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/fleet/index.js
/**
 * Fleets: one backup, verify or drill run over many databases, a layer above the backup and drill use
 * cases (which know nothing of fleets). See docs/fleets.md.
 */







// EXTERNAL MODULE: ./build/ncc-src/src/core/options/index.js + 15 modules
var core_options = __webpack_require__(62187);
// EXTERNAL MODULE: ./build/ncc-src/src/adapters/announce.js
var announce = __webpack_require__(86799);
;// CONCATENATED MODULE: ./build/ncc-src/src/adapters/fleet-runs.js
/**
 * A fleet backup, verify or drill as both front ends run it: the command's options parsed first (a bad
 * one exits 2 before any work), then the fleet layer wrapped in its notifications (one per member,
 * one dead-man ping per run). The CLI prints the result, the actions set outputs from it.
 */



function fleetBackupRun(deps, reader, selection, env) {
    const options = (0,core_options/* parseBackupOptions */.k3)(reader);
    const retention = (0,core_options/* parseRetentionPolicy */.M$)(reader);
    const announced = (0,announce.fleetAnnouncer)(reader, deps, env);
    return () => announced('backup', options.name, () => backupFleet(deps, options, selection, retention), fleetBackupOutcomes, (e) => fleetResultOf(e));
}
function fleetDrillRun(deps, reader, selection, env) {
    const options = (0,core_options/* parseDrillOptions */.rv)(reader);
    const announced = (0,announce.fleetAnnouncer)(reader, deps, env);
    return () => announced('drill', options.name, () => drillFleet(deps, options, selection), fleetDrillOutcomes, (e) => fleetResultOf(e));
}
function fleetVerifyRun(deps, reader, selection, env) {
    const options = (0,core_options/* parseVerifyOptions */.lW)(reader);
    const announced = (0,announce.fleetAnnouncer)(reader, deps, env);
    return () => announced('verify', options.name, () => verifyFleet(deps, options, selection), fleetVerifyOutcomes, (e) => fleetResultOf(e));
}

;// CONCATENATED MODULE: ./build/ncc-src/src/cli/fleet-commands.js
/**
 * The CLI's fleet runs (`backup`/`verify`/`drill` with `--databases` or `--fleet-mode`): the same option
 * parsers, the fleet layer, then the fleet table on stdout (the answer, like `list`), or with
 * --json one object whose `fleet` key is the summary.
 */


/**
 * Backup's keys for a fleet: `bundle`/`sha256` of the first member stored, `bundles` every
 * member's, `sizeBytes` their total, `durationSeconds` the fleet's wall time, `fleet` the summary.
 */
function fleetBackupJson(r) {
    const stored = [
        ...new Map(r.members.filter((m) => m.result).map((m) => [m.result.key, m.result])).values(),
    ];
    return {
        ok: r.ok,
        bundle: stored[0]?.bundle ?? null,
        sha256: stored[0]?.sha256 ?? null,
        bundles: stored.map((b) => b.bundle),
        sizeBytes: stored.reduce((n, b) => n + b.sizeBytes, 0),
        durationSeconds: r.durationSeconds,
        fleet: r.summary,
    };
}
/**
 * The drill's keys for a fleet: status failed when any member failed, the worst RTO and RPO,
 * `phases`/`counts` of the first failed member (else the first member), `fleet` the summary.
 */
function fleetDrillJson(r) {
    const shown = r.members.find((m) => m.result && !m.result.ok) ?? r.members.find((m) => m.result);
    return {
        ok: r.ok,
        status: r.status,
        rtoSeconds: r.rtoSeconds,
        rpoSeconds: r.rpoSeconds,
        phases: shown?.result?.phases ?? [],
        counts: shown?.result?.counts ?? [],
        reportDir: r.reportDir,
        fleet: r.summary,
    };
}
/**
 * Verify's keys for a fleet: `bundle` the first member's, `bundles` every distinct bundle read,
 * `ageSeconds` the oldest member's, `problems` every failed member's (prefixed with its database).
 */
function fleetVerifyJson(r) {
    const bundles = [...new Set(r.members.flatMap((m) => (m.result ? [m.result.bundle] : [])))];
    return {
        ok: r.ok,
        bundle: bundles[0] ?? null,
        bundles,
        ageSeconds: r.ageSeconds,
        problems: r.summary.members
            .filter((m) => m.status !== 'passed')
            .map((m) => `${m.database}: ${m.reason ?? m.status}`),
        fleet: r.summary,
    };
}
/** The --json answer of a failed fleet run, or undefined when the error is no fleet's. */
function fleetFailureJson(err) {
    const r = fleetResultOf(err);
    if (!r)
        return undefined;
    switch (r.summary.command) {
        case 'backup':
            return fleetBackupJson(r);
        case 'verify':
            return fleetVerifyJson(r);
        case 'drill':
            return fleetDrillJson(r);
    }
}
async function printing(io, run, json) {
    let result;
    try {
        result = await run();
    }
    catch (err) {
        // the failure's JSON is printed by the CLI's catch (fleetFailureJson); the table is printed here
        const failed = fleetResultOf(err);
        if (failed && !io.json)
            io.stdout(io.redact(fleetText(failed.summary)));
        throw err;
    }
    if (io.json)
        io.print(json(result));
    else
        io.stdout(io.redact(fleetText(result.summary)));
    return 0;
}
function runBackupFleet(deps, reader, selection, env, io) {
    return printing({ ...io, redact: deps.redact }, fleetBackupRun(deps, reader, selection, env), fleetBackupJson);
}
function runDrillFleet(deps, reader, selection, env, io) {
    return printing({ ...io, redact: deps.redact }, fleetDrillRun(deps, reader, selection, env), fleetDrillJson);
}
function runVerifyFleet(deps, reader, selection, env, io) {
    return printing({ ...io, redact: deps.redact }, fleetVerifyRun(deps, reader, selection, env), fleetVerifyJson);
}


/***/ }),

/***/ 95003:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   backup: () => (/* binding */ backup),
/* harmony export */   backupAndPrune: () => (/* binding */ backupAndPrune),
/* harmony export */   round: () => (/* binding */ round)
/* harmony export */ });
/* harmony import */ var _catalog_index_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(39100);
/* harmony import */ var _bundle_manifest_js__WEBPACK_IMPORTED_MODULE_7__ = __webpack_require__(79269);
/* harmony import */ var _bundle_tar_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6390);
/* harmony import */ var _components_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(46065);
/* harmony import */ var _encryption_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(77863);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(1454);
/* harmony import */ var _secrets_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(96400);
/* harmony import */ var _version_js__WEBPACK_IMPORTED_MODULE_8__ = __webpack_require__(45545);
/* harmony import */ var _work_dir_js__WEBPACK_IMPORTED_MODULE_6__ = __webpack_require__(43150);
/**
 * The backup use case: dump, count in the same snapshot, add the secret store, and publish one
 * bundle atomically. Nothing reaches the store until everything it depends on has succeeded.
 * With a retention policy, the new bundle is then verified where it was stored and the name is
 * pruned (backupAndPrune).
 */









async function backup(deps, options) {
    const { logger, clock } = deps;
    const label = deps.label ?? ((n) => n);
    const t0 = clock.monotonicMs();
    const startedAt = clock.now();
    const store = deps.openStore(options.store);
    await store.checkWritable?.();
    const secrets = await (0,_secrets_js__WEBPACK_IMPORTED_MODULE_5__/* .collectSecretFiles */ .CU)(options.secretFiles, label('secret-files'));
    // Masks secret values, refuses plain secret files, builds the encrypt stream and checks the KEK pairing.
    const security = await (0,_encryption_js__WEBPACK_IMPORTED_MODULE_3__/* .prepareBackupSecurity */ .U5)({ ...deps, label }, options, secrets, deps.encrypt);
    store.checkBundle?.({ secretFiles: secrets.length, encrypted: !!security.encrypt });
    // Listing before dumping also proves the store answers (bucket, credentials) before any work is done.
    const existing = new Set((await store.list(options.name)).map((o) => o.key));
    const work = await (0,_work_dir_js__WEBPACK_IMPORTED_MODULE_6__/* .makeWorkDir */ .d)('backup');
    try {
        logger.startGroup(`Dumping ${(options.databases ?? [options]).map((d) => d.engine).join(' + ')}`);
        let dumps;
        try {
            dumps = await (0,_components_js__WEBPACK_IMPORTED_MODULE_2__/* .dumpComponents */ .n6)(deps, options, work.dir, label);
        }
        catch (err) {
            (0,_errors_js__WEBPACK_IMPORTED_MODULE_4__/* .throwIfCancelled */ .dZ)(deps.signal);
            throw err;
        }
        finally {
            logger.endGroup();
        }
        (0,_errors_js__WEBPACK_IMPORTED_MODULE_4__/* .throwIfCancelled */ .dZ)(deps.signal);
        const components = dumps.map((d) => d.component);
        const skew = (0,_components_js__WEBPACK_IMPORTED_MODULE_2__/* .computeSkew */ .OO)(components);
        if (skew)
            logger.info(`skew between the dumps: ${skew.seconds} s (${skew.from} to ${skew.to})`);
        (0,_components_js__WEBPACK_IMPORTED_MODULE_2__/* .checkMaxSkew */ .VC)(skew, options.maxSkewSeconds, label);
        const members = [
            ...(await (0,_components_js__WEBPACK_IMPORTED_MODULE_2__/* .dumpMembers */ .wG)(dumps, deps.engines)),
            ...secrets.map((s) => ({
                path: s.member,
                sizeBytes: s.sizeBytes,
                sha256: s.sha256,
                role: 'secret',
            })),
        ];
        const endedAt = (0,_components_js__WEBPACK_IMPORTED_MODULE_2__/* .latestEnd */ .zO)(components);
        const encrypted = !!security.encrypt;
        const manifest = {
            format: _bundle_manifest_js__WEBPACK_IMPORTED_MODULE_7__/* .MANIFEST_FORMAT */ .Sn,
            formatVersion: (0,_bundle_manifest_js__WEBPACK_IMPORTED_MODULE_7__/* .manifestFormatVersionFor */ .Q3)(components),
            dbdrillVersion: _version_js__WEBPACK_IMPORTED_MODULE_8__/* .DBDRILL_VERSION */ .P,
            name: options.name,
            startedAt: startedAt.toISOString(),
            endedAt: endedAt.toISOString(),
            components,
            members,
            secrets: (0,_secrets_js__WEBPACK_IMPORTED_MODULE_5__/* .secretsRecord */ .RT)(secrets),
            encryption: security.encryption,
            ...(skew ? { skew } : {}),
            checksums: _bundle_manifest_js__WEBPACK_IMPORTED_MODULE_7__/* .CHECKSUMS_MEMBER */ .oM,
        };
        const mtime = endedAt;
        const entries = [
            { path: _bundle_manifest_js__WEBPACK_IMPORTED_MODULE_7__/* .MANIFEST_MEMBER */ .dN, content: Buffer.from(JSON.stringify(manifest, null, 2) + '\n'), mtime },
            ...(await (0,_components_js__WEBPACK_IMPORTED_MODULE_2__/* .dumpPackEntries */ .aL)(dumps, mtime, deps.engines)),
            ...secrets.map((s) => ({ path: s.member, file: s.source, mtime })),
        ];
        let key = (0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .bundleKey */ .CK)(options.name, startedAt, { encrypted });
        for (let seq = 2; existing.has(key); seq++)
            key = (0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .bundleKey */ .CK)(options.name, startedAt, { encrypted, sequence: seq });
        if ((0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .bundlesOf */ .nA)(options.name, [key]).length !== 1)
            throw new Error(`internal: bundle key ${key} does not parse`);
        logger.info(`Writing ${key} to ${store.displayUri}`);
        // A cancelled run must not publish: the bundle's bytes stop with an error and the store discards them.
        const cancel = new AbortController();
        const onAbort = () => cancel.abort(new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .Cancelled */ .cJ(String(deps.signal?.reason ?? 'abort')));
        deps.signal?.addEventListener('abort', onAbort, { once: true });
        let put;
        try {
            put = await storeBundle(store, key, entries, security, cancel.signal, {
                metadata: (0,_bundle_manifest_js__WEBPACK_IMPORTED_MODULE_7__/* .manifestSummary */ .OY)(manifest),
                noOverwrite: true,
            });
        }
        finally {
            deps.signal?.removeEventListener('abort', onAbort);
        }
        (0,_errors_js__WEBPACK_IMPORTED_MODULE_4__/* .throwIfCancelled */ .dZ)(deps.signal);
        await (0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .writeSha256Sidecar */ .Qm)(store, key, put.sha256);
        const totals = (0,_components_js__WEBPACK_IMPORTED_MODULE_2__/* .componentTotals */ .Rb)(components, deps.engines);
        const result = {
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
            components: components.map((c) => (0,_components_js__WEBPACK_IMPORTED_MODULE_2__/* .componentSummary */ .op)(c, deps.engines)),
            collections: totals.collections,
            documents: totals.documents,
            skewSeconds: skew?.seconds ?? null,
        };
        return result;
    }
    finally {
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
async function storeBundle(store, key, entries, security, signal, putOptions) {
    const options = { checksumsMember: _bundle_manifest_js__WEBPACK_IMPORTED_MODULE_7__/* .CHECKSUMS_MEMBER */ .oM, signal };
    const reused = () => (0,_bundle_tar_js__WEBPACK_IMPORTED_MODULE_1__/* .bundleChunks */ .$_)(entries, { ...options, reuseBuffers: true });
    if (!security.encrypt && store.putChunks)
        return store.putChunks(key, reused(), putOptions);
    // from the packer's reused buffers through the encryptor's to the store's writes: no copy kept
    if (security.encryptChunks && store.putChunks)
        return store.putChunks(key, security.encryptChunks(reused()), putOptions);
    const body = security.encryptChunks
        ? security.encryptChunks(reused()).toReadable()
        : security.encrypt
            ? security.encrypt((0,_bundle_tar_js__WEBPACK_IMPORTED_MODULE_1__/* .packBundle */ .ii)(entries, options))
            : (0,_bundle_tar_js__WEBPACK_IMPORTED_MODULE_1__/* .packBundle */ .ii)(entries, options);
    // The chunks stop at the next read after an abort; this stops a store that is not reading.
    const stop = () => body.destroy(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    try {
        return await store.put(key, body, putOptions);
    }
    finally {
        signal.removeEventListener('abort', stop);
    }
}
/**
 * backup, then (only when a retention policy was given) verify the new bundle where it was stored
 * and prune. Pruning after an unverified upload could rotate a good bundle away in favour of a bad
 * one, so a failed verification stops here with CheckFailed and deletes nothing.
 *
 * Without keep-* options backup does not re-read what it uploaded (that would double its I/O); the
 * stored object's sha256 sidecar still lets any later verify prove the bytes are intact.
 */
async function backupAndPrune(deps, options, policy) {
    const result = await backup(deps, options);
    if (!policy)
        return result;
    const { logger } = deps;
    const store = deps.openStore(options.store);
    logger.startGroup(`Verifying ${result.key} where it was stored, before pruning`);
    let record;
    try {
        // A passphrase decrypts what it encrypted; recipients' private keys are (rightly) not here.
        const decrypt = options.passphrase
            ? await (0,_encryption_js__WEBPACK_IMPORTED_MODULE_3__/* .decryptHook */ .b9)(logger, { passphrase: options.passphrase }, deps.label)
            : undefined;
        ({ record } = await (0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .verifyAndRecord */ .Mf)({ ...deps, decrypt }, store, result.key, 'backup'));
    }
    finally {
        logger.endGroup();
    }
    result.verification = record;
    if (!record.ok) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .CheckFailed */ .EC(`the new bundle ${result.key} failed verification after upload, so nothing was pruned: ${record.problems.join('; ')}`, result);
    }
    if (record.scope === 'stored-object') {
        logger.info(`${result.key} is encrypted to recipients: its stored bytes match the uploaded sha256; run verify with identity to check its contents`);
    }
    result.prune = await (0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .pruneStore */ .I9)(deps, store, options.name, policy, false);
    return result;
}
function round(n, digits = 3) {
    const f = 10 ** digits;
    return Math.round(n * f) / f;
}


/***/ }),

/***/ 46065:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   Ao: () => (/* binding */ componentIds),
/* harmony export */   OO: () => (/* binding */ computeSkew),
/* harmony export */   Rb: () => (/* binding */ componentTotals),
/* harmony export */   VC: () => (/* binding */ checkMaxSkew),
/* harmony export */   aL: () => (/* binding */ dumpPackEntries),
/* harmony export */   n6: () => (/* binding */ dumpComponents),
/* harmony export */   op: () => (/* binding */ componentSummary),
/* harmony export */   wG: () => (/* binding */ dumpMembers),
/* harmony export */   zO: () => (/* binding */ latestEnd)
/* harmony export */ });
/* unused harmony exports dumpFiles, assertEngineForOne */
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(51455);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(76760);
/* harmony import */ var _engines_registry_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(50305);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(1454);
/**
 * One recovery point for the whole app: every database of one backup run is dumped (at the same
 * time, so their skew stays close to the longest dump) into one bundle. Each dump is a component
 * with a unique id that also names its member (`postgres.dump`, `mongodb.archive.gz`).
 */




/** `postgres`, `mongodb`, then `postgres-2`, ... for a second database of the same engine. */
function componentIds(engines) {
    const seen = new Map();
    return engines.map((e) => {
        const n = (seen.get(e) ?? 0) + 1;
        seen.set(e, n);
        return n === 1 ? e : `${e}-${n}`;
    });
}
async function dumpComponents(deps, options, workDir, label) {
    const databases = options.databases?.length
        ? options.databases
        : [{ engine: options.engine, url: options.databaseUrl }];
    const ids = componentIds(databases.map((d) => d.engine));
    const engines = deps.engines ?? _engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .ENGINES */ .u;
    const runs = databases.map((db, i) => (0,_engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .engineNamed */ .K)(db.engine, engines).dump(deps, {
        databaseUrl: db.url,
        id: ids[i],
        workDir,
        options,
        databaseCount: databases.length,
        label,
    }));
    const settled = await Promise.allSettled(runs);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed)
        throw failed.reason;
    const dumps = settled.map((s) => s.value);
    for (const d of dumps) {
        if ((await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.stat)(d.dumpPath)).isDirectory()) {
            await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.chmod)(d.dumpPath, 0o700);
            for (const f of await dumpFiles(d, engines))
                await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.chmod)(f.file, 0o600);
        }
        else
            await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.chmod)(d.dumpPath, 0o600);
    }
    return dumps;
}
/**
 * The files a dump contributes to the bundle, as member path and local file: the dump itself,
 * or every file of a directory dump under its folder member (`postgres.dir/toc.dat`, ...).
 */
async function dumpFiles(d, engines = _engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .ENGINES */ .u) {
    const info = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.stat)(d.dumpPath);
    if (!info.isDirectory())
        return [{ path: d.component.member, file: d.dumpPath, size: info.size }];
    const entries = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.readdir)(d.dumpPath, { withFileTypes: true });
    const odd = entries.find((e) => !e.isFile());
    if (odd)
        throw new Error(`the ${d.component.engine} dump left ${odd.name} in ${d.dumpPath}, which is not a regular file`);
    const names = entries.map((e) => e.name);
    const engine = (0,_engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .engineNamed */ .K)(d.component.engine, engines);
    const out = [];
    for (const name of engine.orderDumpFiles ? engine.orderDumpFiles(names) : [...names].sort()) {
        const file = (0,node_path__WEBPACK_IMPORTED_MODULE_1__.join)(d.dumpPath, name);
        out.push({ path: `${d.component.member}/${name}`, file, size: (await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_0__.stat)(file)).size });
    }
    return out;
}
/** Sizes now; hashes go into the trailing SHA256SUMS member while the bundle streams (no extra read). */
async function dumpMembers(dumps, engines = _engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .ENGINES */ .u) {
    const out = [];
    for (const d of dumps) {
        for (const f of await dumpFiles(d, engines)) {
            out.push({ path: f.path, sizeBytes: f.size, sha256: null, role: 'dump', component: d.component.id });
        }
    }
    return out;
}
/** The dumps' pack entries, in the same order as dumpMembers lists them. */
async function dumpPackEntries(dumps, mtime, engines = _engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .ENGINES */ .u) {
    const out = [];
    for (const d of dumps)
        for (const f of await dumpFiles(d, engines)) {
            const precomputed = d.fileHashes?.get((0,node_path__WEBPACK_IMPORTED_MODULE_1__.basename)(f.file));
            out.push({ path: f.path, file: f.file, mtime, ...(precomputed ? { precomputed } : {}) });
        }
    return out;
}
/** Undefined for a single dump: skew is between dumps. */
function computeSkew(components) {
    if (components.length < 2)
        return undefined;
    const from = Math.min(...components.map((c) => Date.parse(c.startedAt)));
    const to = Math.max(...components.map((c) => Date.parse(c.endedAt)));
    return {
        seconds: Math.round(to - from) / 1000,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        components: components.map((c) => ({ id: c.id, startedAt: c.startedAt, endedAt: c.endedAt })),
    };
}
/** max-skew: a recovery point whose dumps are too far apart is not stored. */
function checkMaxSkew(skew, maxSkewSeconds, label) {
    if (maxSkewSeconds === undefined || !skew)
        return;
    if (skew.seconds > maxSkewSeconds) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .CheckFailed */ .EC(`the dumps are ${skew.seconds} s apart (${skew.components.map((c) => c.id).join(' and ')}, from ${skew.from} to ${skew.to}), over ${label('max-skew')} ${maxSkewSeconds} s; nothing was stored. Run the backup when the databases are quieter, or raise ${label('max-skew')}`);
    }
}
function latestEnd(components) {
    return new Date(Math.max(...components.map((c) => Date.parse(c.endedAt))));
}
/** The component as backup's `components` output lists it, in its engine's words. */
function componentSummary(c, engines = _engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .ENGINES */ .u) {
    return (0,_engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .engineNamed */ .K)(c.engine, engines).summarize(c);
}
/** Backup's totals over every component: tables and rows, collections and documents. */
function componentTotals(components, engines = _engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .ENGINES */ .u) {
    const sum = { tables: 0, rows: 0, collections: 0, documents: 0 };
    for (const c of components) {
        const t = (0,_engines_registry_js__WEBPACK_IMPORTED_MODULE_2__/* .engineNamed */ .K)(c.engine, engines).totals(c);
        for (const k of Object.keys(sum))
            sum[k] += t[k] ?? 0;
    }
    return sum;
}
/** Databases from the (repeatable) database-url; `engine` only applies to a single URL. */
function assertEngineForOne(count, engine, label) {
    if (count > 1 && engine) {
        throw new ConfigError(`${label('engine')} only applies with one ${label('database-url')}; with ${count} URLs each engine comes from its URL scheme, so remove ${label('engine')}`);
    }
}


/***/ }),

/***/ 17088:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   verify: () => (/* binding */ verify)
/* harmony export */ });
/* harmony import */ var _catalog_index_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(39100);
/* harmony import */ var _encryption_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(77863);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(1454);
/* harmony import */ var _inspection_index_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(69856);
/**
 * The verify use case: find the bundle (the catalog), inspect it layer by layer (inspection) with
 * the run's max-age, log each layer, record the outcome beside the bundle, and fail with
 * CheckFailed (carrying the result) when any layer failed.
 */




/** verify for the CLI and the action: throws CheckFailed (with the result) when a layer fails. */
async function verify(deps, options) {
    if (!deps.decrypt)
        deps = { ...deps, decrypt: await (0,_encryption_js__WEBPACK_IMPORTED_MODULE_1__/* .decryptHook */ .b9)(deps.logger, options, deps.label) };
    const location = options.bundle
        ? (0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .locateBundle */ .$G)(deps, options.bundle)
        : await (0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .resolveNewest */ .zz)(deps.openStore(options.store), options.name);
    deps.logger.info(`Verifying ${location.display}`);
    const inspect = {
        deep: options.deep,
        maxAgeSeconds: options.maxAgeSeconds,
        pgBinDir: options.pgBinDir,
        pgClient: options.pgClient,
    };
    // A bare pg_dump -Fd directory on disk is in no store: read in place, recorded nowhere.
    const bareDir = await (0,_inspection_index_js__WEBPACK_IMPORTED_MODULE_3__/* .isBareDumpDirectory */ .ih)(options.bundle, deps.engines);
    const result = bareDir
        ? await (0,_inspection_index_js__WEBPACK_IMPORTED_MODULE_3__/* .inspectDumpDirectory */ .wT)(deps, options.bundle, inspect)
        : await (0,_inspection_index_js__WEBPACK_IMPORTED_MODULE_3__/* .inspectBundle */ .rI)(deps, location, inspect);
    for (const layer of result.layers) {
        const mark = layer.skipped ? 'skip' : layer.ok ? ' ok ' : 'FAIL';
        deps.logger.info(`[${mark}] ${layer.name}: ${layer.detail}`);
    }
    if (!bareDir)
        await (0,_catalog_index_js__WEBPACK_IMPORTED_MODULE_0__/* .recordVerifyOutcome */ .pz)(deps, location, result, options.deep);
    if (!result.ok) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_2__/* .CheckFailed */ .EC(result.inconclusive
            ? `could not verify ${location.display}: ${result.inconclusive}`
            : `verification failed for ${location.display}: ${result.problems.join('; ')}`, result);
    }
    return result;
}


/***/ })

};
