export const id = 799;
export const ids = [799];
export const modules = {

/***/ 86799:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   announcedName: () => (/* binding */ announcedName),
/* harmony export */   announcer: () => (/* binding */ announcer),
/* harmony export */   backupOutcome: () => (/* reexport safe */ _core_notify_index_js__WEBPACK_IMPORTED_MODULE_1__.hC),
/* harmony export */   drillOutcome: () => (/* reexport safe */ _core_notify_index_js__WEBPACK_IMPORTED_MODULE_1__.qv),
/* harmony export */   fleetAnnouncer: () => (/* binding */ fleetAnnouncer),
/* harmony export */   verifyOutcome: () => (/* reexport safe */ _core_notify_index_js__WEBPACK_IMPORTED_MODULE_1__.ek)
/* harmony export */ });
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(76760);
/* harmony import */ var _core_notify_index_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(78507);
/* harmony import */ var _core_options_index_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(62187);
/**
 * Makes a backup, verify or drill heard from: parses the notify options together with the
 * command's other options (so a typo in a webhook fails before any work, exit 2), registers the
 * URLs' secrets with the logger, and wraps the use case in the start ping, the outcome
 * notification and the metrics. Every channel fails soft: the use case's result and exit code
 * stay its own.
 */



function announcer(reader, deps, env) {
    const settings = (0,_core_options_index_js__WEBPACK_IMPORTED_MODULE_2__/* .parseNotifySettings */ .W0)(reader);
    (0,_core_notify_index_js__WEBPACK_IMPORTED_MODULE_1__/* .registerNotifySecrets */ .wC)(deps.logger, settings);
    return (command, name, run, outcomeOf) => (0,_core_notify_index_js__WEBPACK_IMPORTED_MODULE_1__/* .notifyDisabled */ .e0)(settings)
        ? run()
        : (0,_core_notify_index_js__WEBPACK_IMPORTED_MODULE_1__/* .runAnnounced */ .N1)({ logger: deps.logger, clock: deps.clock, env, redact: deps.redact }, settings, command, name, run, outcomeOf);
}
/** Like `announcer`, for a fleet: a notification and metrics per member, one dead-man ping for the run. */
function fleetAnnouncer(reader, deps, env) {
    const settings = (0,_core_options_index_js__WEBPACK_IMPORTED_MODULE_2__/* .parseNotifySettings */ .W0)(reader);
    (0,_core_notify_index_js__WEBPACK_IMPORTED_MODULE_1__/* .registerNotifySecrets */ .wC)(deps.logger, settings);
    return (command, name, run, outcomesOf, resultOf) => (0,_core_notify_index_js__WEBPACK_IMPORTED_MODULE_1__/* .notifyDisabled */ .e0)(settings)
        ? run()
        : (0,_core_notify_index_js__WEBPACK_IMPORTED_MODULE_1__/* .runFleetAnnounced */ .TY)({ logger: deps.logger, clock: deps.clock, env, redact: deps.redact }, settings, command, name, run, outcomesOf, resultOf);
}
/** The name a notification carries: the bundle name, or the file name of a bundle given directly. */
function announcedName(options) {
    return options.name ?? (options.bundle ? (0,node_path__WEBPACK_IMPORTED_MODULE_0__.basename)(options.bundle) : 'dbdrill');
}



/***/ }),

/***/ 78507:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  hC: () => (/* reexport */ backupOutcome),
  qv: () => (/* reexport */ drillOutcome),
  zY: () => (/* reexport */ errorOutcome),
  e0: () => (/* reexport */ notifyDisabled),
  wC: () => (/* reexport */ registerNotifySecrets),
  N1: () => (/* reexport */ runAnnounced),
  TY: () => (/* reexport */ runFleetAnnounced),
  ek: () => (/* reexport */ verifyOutcome)
});

// UNUSED EXPORTS: NOTIFY_EVENT_SCHEMA_VERSION, announce, announceStart, runUrlFrom

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(48161);
// EXTERNAL MODULE: ./build/ncc-src/src/core/errors.js
var errors = __webpack_require__(1454);
// EXTERNAL MODULE: ./build/ncc-src/src/core/logger.js
var logger = __webpack_require__(2473);
// EXTERNAL MODULE: ./build/ncc-src/src/core/notify/endpoint.js
var notify_endpoint = __webpack_require__(78594);
// EXTERNAL MODULE: ./build/ncc-src/src/core/version.js
var version = __webpack_require__(45545);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/notify/http-delivery.js
/**
 * One HTTP request to an endpoint dbdrill does not own (a chat webhook, a ping service, a
 * Pushgateway), made fail-soft: whatever the endpoint does (refuses the connection, hangs, answers
 * 5xx) the caller gets a Delivery back, never an exception, because a monitoring hiccup must not
 * turn a good backup red. Transient failures are retried a few times with a short backoff.
 */



const DEFAULT_DELIVERY_POLICY = { timeoutMs: 10_000, retries: 2, backoffMs: 500 };
const realSleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MAX_ERROR_BODY = 200;
async function deliver(deps, request, policy = DEFAULT_DELIVERY_POLICY) {
    const endpoint = request.label ?? (0,notify_endpoint/* maskUrl */.yP)(request.url);
    let target;
    try {
        target = (0,notify_endpoint/* splitCredentials */.JD)(request.url);
    }
    catch (e) {
        return { ok: false, endpoint, attempts: 0, error: `${endpoint}: not a usable URL (${(0,errors/* messageOf */.bD)(e)})` };
    }
    const headers = { 'user-agent': `dbdrill/${version/* DBDRILL_VERSION */.P}`, ...request.headers, ...target.headers };
    const scrub = (text) => deps.redact(text.split(request.url).join(endpoint)).replace(/\s+/g, ' ');
    let last = { ok: false, endpoint, attempts: 0 };
    for (let attempt = 1; attempt <= policy.retries + 1; attempt++) {
        if (attempt > 1)
            await deps.sleep(policy.backoffMs * 2 ** (attempt - 2));
        const result = await attemptOnce(deps.fetch, target.url, request, headers, policy.timeoutMs);
        if ('status' in result && result.status >= 200 && result.status < 300) {
            return { ok: true, endpoint, status: result.status, attempts: attempt };
        }
        if ('status' in result) {
            const snippet = scrub(result.body).trim().slice(0, MAX_ERROR_BODY);
            last = {
                ok: false,
                endpoint,
                status: result.status,
                attempts: attempt,
                error: `${endpoint} answered HTTP ${result.status}${snippet ? `: ${snippet}` : ''}`,
            };
            if (result.status !== 429 && result.status < 500)
                return last;
        }
        else {
            last = { ok: false, endpoint, attempts: attempt, error: `${endpoint}: ${scrub(result.error)}` };
        }
    }
    if (last.attempts > 1)
        last.error += ` (${last.attempts} attempts)`;
    return last;
}
async function attemptOnce(fetch, url, request, headers, timeoutMs) {
    const controller = new AbortController();
    let timer;
    // The race makes the timeout hold even for a fetch that ignores its signal.
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => {
            controller.abort();
            reject(new TimeoutError(`no answer within ${timeoutMs / 1000} s`));
        }, timeoutMs);
    });
    try {
        const exchange = (async () => {
            const res = await fetch(url, {
                method: request.method,
                headers,
                body: request.body,
                signal: controller.signal,
            });
            return { status: res.status, body: await res.text() };
        })();
        exchange.catch(() => undefined); // when the timeout wins, the aborted exchange rejects unobserved
        return await Promise.race([exchange, timeout]);
    }
    catch (e) {
        return { error: describeFetchError(e) };
    }
    finally {
        clearTimeout(timer);
    }
}
class TimeoutError extends Error {
}
/** undici says only "fetch failed"; the useful part (ECONNREFUSED, ENOTFOUND) is in the cause. */
function describeFetchError(e) {
    if (e instanceof TimeoutError)
        return e.message;
    const cause = e.cause;
    const code = cause?.code;
    const causeText = cause ? (0,errors/* messageOf */.bD)(cause) : '';
    if (typeof code === 'string')
        return `${(0,errors/* messageOf */.bD)(e)} (${code}${causeText && !causeText.includes(code) ? `: ${causeText}` : ''})`;
    return causeText ? `${(0,errors/* messageOf */.bD)(e)} (${causeText})` : (0,errors/* messageOf */.bD)(e);
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/notify/dead-man-ping.js
/**
 * Dead-man pings in the healthchecks.io convention: `<url>/start` when a run begins, `<url>` when
 * it succeeds, `<url>/fail` with the reason in the body when it fails. The service alerts when the
 * success ping stops arriving, which is the one failure dbdrill cannot report itself: the backup
 * that never ran. The /start ping also lets the service measure run time and flag a hung run.
 */


/** healthchecks.io keeps the first 100 KB of a ping body; the gist of a reason fits in 10. */
const MAX_PING_BODY_BYTES = 10 * 1024;
const SUFFIX = { start: '/start', success: '', fail: '/fail' };
async function ping(deps, url, kind, body, policy) {
    const label = (0,notify_endpoint/* maskUrl */.yP)(url) + SUFFIX[kind];
    let target;
    try {
        target = (0,notify_endpoint/* appendPath */.mR)(url, SUFFIX[kind]);
    }
    catch {
        return { ok: false, endpoint: label, attempts: 0, error: `${label}: not a usable URL` };
    }
    return deliver(deps, {
        method: 'POST',
        url: target,
        label,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: firstBytes(body, MAX_PING_BODY_BYTES),
    }, policy);
}
/** The first `max` bytes of UTF-8 text, cut at a character boundary. */
function firstBytes(text, max) {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length <= max)
        return text;
    let end = max;
    // Back up over continuation bytes (10xxxxxx) so no character is split.
    while (end > 0 && (bytes[end] & 0xc0) === 0x80)
        end--;
    return bytes.subarray(0, end).toString('utf8');
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(77598);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(51455);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/notify/prometheus-text.js
/** Every family dbdrill writes, in the order they are written. */
const METRIC_FAMILIES = [
    {
        name: 'dbdrill_last_success_timestamp_seconds',
        help: 'Unix time the last successful run finished.',
    },
    {
        name: 'dbdrill_last_run_timestamp_seconds',
        help: 'Unix time the last run finished, whatever its outcome.',
    },
    { name: 'dbdrill_duration_seconds', help: 'How long the last run took.' },
    { name: 'dbdrill_bundle_size_bytes', help: 'Size of the bundle the last run wrote or read.' },
    { name: 'dbdrill_rows', help: 'Rows and documents counted by the last run that counted them.' },
    { name: 'dbdrill_rto_seconds', help: 'Drill: recovery time, drill start until the app was healthy.' },
    {
        name: 'dbdrill_rpo_seconds',
        help: "Recovery point: drill start (or verify time) minus the backup's end.",
    },
    { name: 'dbdrill_outcome', help: 'Outcome of the last run: 1 success, 0 failure.' },
];
/**
 * The samples one outcome measured. A number the run did not measure is absent (not 0), so a
 * failed run does not overwrite the last good size or RTO with nonsense, and last-success appears
 * only when the run succeeded.
 */
function outcomeSamples(outcome, finishedAt, labels) {
    const at = finishedAt.getTime() / 1000;
    const values = [
        ['dbdrill_last_success_timestamp_seconds', outcome.ok ? at : undefined],
        ['dbdrill_last_run_timestamp_seconds', at],
        ['dbdrill_duration_seconds', outcome.durationSeconds],
        ['dbdrill_bundle_size_bytes', outcome.sizeBytes],
        ['dbdrill_rows', outcome.rows],
        ['dbdrill_rto_seconds', outcome.rtoSeconds],
        ['dbdrill_rpo_seconds', outcome.rpoSeconds],
        ['dbdrill_outcome', outcome.ok ? 1 : 0],
    ];
    return values
        .filter((v) => typeof v[1] === 'number' && !Number.isNaN(v[1]))
        .map(([name, value]) => ({ name, labels, value }));
}
/** Renders samples grouped by family (the format requires a family's samples to be contiguous). */
function renderExposition(samples) {
    const out = [];
    for (const family of METRIC_FAMILIES) {
        const mine = samples
            .filter((s) => s.name === family.name)
            .map((s) => `${s.name}${renderLabels(s.labels)} ${formatValue(s.value)}`)
            .sort();
        if (mine.length === 0)
            continue;
        out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} gauge`, ...mine);
    }
    return out.length ? out.join('\n') + '\n' : '';
}
function renderLabels(labels) {
    const keys = Object.keys(labels).sort();
    if (keys.length === 0)
        return '';
    return `{${keys.map((k) => `${k}="${escapeLabelValue(labels[k])}"`).join(',')}}`;
}
/** Label values escape backslash, double quote and line feed; nothing else. */
function escapeLabelValue(value) {
    return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
/** HELP text escapes backslash and line feed (not quotes). */
function escapeHelp(text) {
    return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
function formatValue(v) {
    if (Number.isNaN(v))
        return 'NaN';
    if (v === Infinity)
        return '+Inf';
    if (v === -Infinity)
        return '-Inf';
    return String(v);
}
const KNOWN = new Set(METRIC_FAMILIES.map((f) => f.name));
/**
 * Reads back the samples of dbdrill's own families from a file it wrote earlier. Comments, other
 * families and lines it cannot read are skipped: the file is rewritten from what is understood.
 */
function parseExposition(text) {
    const out = [];
    for (const raw of text.split('\n')) {
        const line = raw.trim();
        if (!line || line.startsWith('#'))
            continue;
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+-?\d+)?$/.exec(line);
        if (!m || !KNOWN.has(m[1]))
            continue;
        const labels = m[2] ? parseLabels(m[2]) : {};
        const value = parseValue(m[3]);
        if (!labels || value === undefined)
            continue;
        out.push({ name: m[1], labels, value });
    }
    return out;
}
function parseValue(text) {
    if (text === '+Inf')
        return Infinity;
    if (text === '-Inf')
        return -Infinity;
    if (text === 'NaN')
        return NaN;
    const n = Number(text);
    return Number.isNaN(n) ? undefined : n;
}
/** `{a="x",b="y \"q\""}` → labels, honouring the three escapes; undefined when malformed. */
function parseLabels(text) {
    const labels = {};
    let i = 1;
    const end = text.length - 1;
    while (i < end) {
        const name = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/.exec(text.slice(i));
        if (!name)
            return undefined;
        i += name[0].length;
        let value = '';
        for (;;) {
            if (i >= end)
                return undefined;
            const c = text[i++];
            if (c === '"')
                break;
            if (c === '\\') {
                const next = text[i++];
                value += next === 'n' ? '\n' : next;
            }
            else
                value += c;
        }
        labels[name[1]] = value;
        const sep = /^\s*,?\s*/.exec(text.slice(i));
        i += sep ? sep[0].length : 0;
    }
    return labels;
}
/** True when both label sets are equal. */
function sameLabels(a, b) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/notify/metrics-file.js
/**
 * The node_exporter textfile collector's side of the metrics: a `.prom` file node_exporter reads
 * on every scrape. Two rules shape this module. The file is replaced atomically (temp file in the
 * same directory, then rename), because node_exporter may read it at any moment and a half-written
 * file is a scrape error. And the file is merged, not overwritten: a failed run keeps the
 * last-success time (and any number it did not measure) from before, and the samples of other
 * names or jobs sharing the file stay, so backup and drill can point at one file.
 */




const nodeTextFileIo = {
    async read(path) {
        try {
            return await (0,promises_.readFile)(path, 'utf8');
        }
        catch (e) {
            if (e.code === 'ENOENT')
                return undefined;
            throw e;
        }
    },
    async writeAtomic(path, text) {
        // Not *.prom: node_exporter only reads *.prom, so it never sees the temp file.
        const temp = (0,external_node_path_.join)((0,external_node_path_.dirname)(path), `.${(0,external_node_path_.basename)(path)}.${process.pid}.${(0,external_node_crypto_.randomBytes)(4).toString('hex')}.tmp`);
        try {
            // 0644: node_exporter usually runs as another user, and metrics hold no secrets.
            const fh = await (0,promises_.open)(temp, 'wx', 0o644);
            try {
                await fh.writeFile(text, 'utf8');
                await fh.sync();
            }
            finally {
                await fh.close();
            }
            await (0,promises_.rename)(temp, path);
        }
        catch (e) {
            await (0,promises_.unlink)(temp).catch(() => undefined);
            throw e;
        }
    },
};
/** Merges this outcome's samples into the file at `path` and replaces it; returns the text written. */
async function writeMetricsFile(io, path, outcome, labels, finishedAt) {
    const fresh = outcomeSamples(outcome, finishedAt, labels);
    const previous = parseExposition((await io.read(path)) ?? '');
    const replaced = new Set(fresh.map((s) => s.name));
    const kept = previous.filter((s) => !(sameLabels(s.labels, labels) && replaced.has(s.name)));
    const text = renderExposition([...kept, ...fresh]);
    await io.writeAtomic(path, text);
    return text;
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/notify/settings.js
/**
 * What a run is to announce and where: the parsed notify options (the option table parses them in
 * options/notify-options.ts), kept here so the notify module depends on no option code.
 */

/** True when nothing is configured, so adapters can skip the whole module cheaply. */
function notifyDisabled(s) {
    return !s.notifyUrls.length && !s.pingUrl && !s.metricsFile && !s.pushgatewayUrl;
}
/**
 * Registers the secret parts of every configured URL with the logger, so nothing later (a library
 * error, a verbose log line) prints a webhook token. Call once after parsing; announce calls it too.
 */
function registerNotifySecrets(logger, s) {
    const urls = [...s.notifyUrls.map((t) => t.url), s.pingUrl, s.pushgatewayUrl];
    for (const url of urls)
        if (url)
            for (const secret of (0,notify_endpoint/* urlSecrets */.Fn)(url))
                logger.addSecret(secret);
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/notify/outcome.js
/**
 * What a finished backup, verify or drill tells the outside world. One shape for all three so
 * notifications, dead-man pings and metrics are written once, and the use-case adapters only
 * translate their result (or the error that ended the run) into it.
 */

/**
 * The link to the run that produced an outcome: GitHub Actions' run page, or a GitLab job, or
 * nothing (a laptop or cron run has no page to link to).
 */
function runUrlFrom(env) {
    const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: runId } = env;
    if (server && repo && runId)
        return `${server.replace(/\/+$/, '')}/${repo}/actions/runs/${runId}`;
    return env.CI_JOB_URL || undefined;
}
function backupOutcome(name, result) {
    const rows = (result.rows ?? 0) + (result.documents ?? 0);
    return {
        command: 'backup',
        name,
        ok: true,
        status: 'passed',
        bundle: result.bundle,
        sizeBytes: result.sizeBytes,
        durationSeconds: result.durationSeconds,
        rows: result.rows === undefined && result.documents === undefined ? undefined : rows,
    };
}
function verifyOutcome(name, result, durationSeconds) {
    const perTable = result.pgDump?.rows;
    return {
        command: 'verify',
        name,
        ok: result.ok,
        status: result.ok ? 'passed' : 'failed',
        reason: result.ok ? undefined : result.problems.join('\n') || undefined,
        bundle: result.bundle,
        durationSeconds,
        rpoSeconds: result.ageSeconds ?? undefined,
        rows: perTable ? Object.values(perTable).reduce((a, b) => a + b, 0) : undefined,
    };
}
function drillOutcome(name, result) {
    const failedPhase = result.phases.find((p) => p.status !== 'ok' && p.status !== 'skipped');
    const actual = result.counts?.map((c) => c.actual).filter((n) => typeof n === 'number');
    return {
        command: 'drill',
        name,
        ok: result.ok,
        status: result.status,
        phase: result.ok ? undefined : failedPhase?.name,
        reason: result.ok ? undefined : result.checks?.failures.join('\n') || undefined,
        bundle: result.bundle,
        durationSeconds: result.phases.reduce((a, p) => a + p.seconds, 0),
        rtoSeconds: result.rtoSeconds ?? undefined,
        rpoSeconds: result.rpoSeconds ?? undefined,
        rows: actual && actual.length ? actual.reduce((a, b) => a + b, 0) : undefined,
    };
}
/**
 * A run that ended in an error. A CheckFailed that carries its use case's result keeps that
 * result's numbers (a drill that missed its RTO still measured it); the error's message is the reason.
 */
function errorOutcome(command, name, error, extra = {}) {
    const cancelled = error instanceof Error && error.name === 'Cancelled';
    let base = { command, name, ok: false, status: cancelled ? 'cancelled' : 'failed' };
    const result = error instanceof errors/* CheckFailed */.EC ? error.result : undefined;
    if (result && typeof result === 'object') {
        const r = result;
        if (command === 'drill' && Array.isArray(r.phases))
            base = drillOutcome(name, result);
        if (command === 'verify' && Array.isArray(r.problems))
            base = verifyOutcome(name, result);
    }
    return {
        ...base,
        ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)),
        ok: false,
        status: cancelled ? 'cancelled' : base.status === 'passed' ? 'failed' : base.status,
        reason: (0,errors/* messageOf */.bD)(error) || base.reason,
    };
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/notify/pushgateway.js
/**
 * Pushing to a Prometheus Pushgateway. Each (job, name) pair is its own grouping key
 * (`/metrics/job/<job>/name/<name>`), so backup, verify and drill never overwrite each other.
 * Within a group dbdrill POSTs rather than PUTs: PUT replaces the whole group, so a failed backup
 * would erase `dbdrill_last_success_timestamp_seconds` and the "no success for 26 h" alert would
 * see no series at all; POST replaces only the families pushed, and a failed run simply does not
 * push last-success (nor a number it did not measure).
 */



/**
 * The grouping-key URL. Values outside the URL-safe set use the Pushgateway's base64 form
 * (`name@base64/<base64url>`), so a name with a slash cannot split the key.
 */
function groupingUrl(target) {
    const u = new URL(target.url);
    const segment = (label, value) => /^[A-Za-z0-9._-]+$/.test(value)
        ? `${label}/${value}`
        : `${label}@base64/${Buffer.from(value, 'utf8').toString('base64url') || '='}`;
    u.pathname = `${u.pathname.replace(/\/+$/, '')}/metrics/${segment('job', target.job)}/${segment('name', target.name)}`;
    return u.href;
}
async function pushMetrics(deps, target, outcome, finishedAt, policy) {
    // No job/name labels in the body: the grouping key adds them, and a conflicting body label is an error.
    const body = renderExposition(outcomeSamples(outcome, finishedAt, {}));
    const url = groupingUrl(target);
    const label = `${(0,notify_endpoint/* maskUrl */.yP)(target.url)} (job ${target.job}, name ${target.name})`;
    return deliver(deps, { method: 'POST', url, label, headers: { 'content-type': 'text/plain; version=0.0.4' }, body }, policy);
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/notify/webhook-payloads.js
/**
 * The two bodies a notify-url receives. The generic event is a documented, stable contract
 * (docs/notifications.md): every key is always present (null when unknown) so receivers can
 * map it without guessing, and new keys may be added but none renamed. The Slack message is for
 * people: a one-line verdict that reads well in a phone notification, then the numbers.
 */

const NOTIFY_EVENT_SCHEMA_VERSION = 1;
/** Reasons can be whole tracebacks; a chat message or JSON event carries the first few KB. */
const MAX_REASON_CHARS = 4000;
function notifyEvent(outcome, ctx) {
    return {
        schemaVersion: NOTIFY_EVENT_SCHEMA_VERSION,
        event: `dbdrill.${outcome.command}.${outcome.status}`,
        command: outcome.command,
        name: outcome.name,
        ok: outcome.ok,
        status: outcome.status,
        phase: outcome.phase ?? null,
        reason: outcome.reason ? truncate(outcome.reason, MAX_REASON_CHARS) : null,
        bundle: outcome.bundle ?? null,
        rtoSeconds: outcome.rtoSeconds ?? null,
        rpoSeconds: outcome.rpoSeconds ?? null,
        sizeBytes: outcome.sizeBytes ?? null,
        durationSeconds: outcome.durationSeconds ?? null,
        rows: outcome.rows ?? null,
        runUrl: ctx.runUrl ?? null,
        host: ctx.host,
        dbdrillVersion: version/* DBDRILL_VERSION */.P,
        at: ctx.at.toISOString(),
    };
}
const VERB = {
    backup: 'backup',
    verify: 'verify',
    drill: 'restore drill',
};
/** The one-line verdict shared by Slack messages and ping bodies. */
function headline(outcome) {
    const what = `dbdrill ${VERB[outcome.command]} of "${outcome.name}"`;
    if (outcome.ok)
        return `${what} passed`;
    const where = outcome.phase ? ` in phase ${outcome.phase}` : '';
    return `${what} ${outcome.status === 'cancelled' ? 'was cancelled' : 'FAILED'}${where}`;
}
/** The numbers worth reading, as `label: value` pairs, in a fixed order. */
function facts(outcome) {
    const out = [];
    if (outcome.bundle)
        out.push(['Bundle', outcome.bundle]);
    if (outcome.rtoSeconds !== undefined)
        out.push(['RTO', formatSeconds(outcome.rtoSeconds)]);
    if (outcome.rpoSeconds !== undefined)
        out.push(['RPO', formatSeconds(outcome.rpoSeconds)]);
    if (outcome.sizeBytes !== undefined)
        out.push(['Size', formatBytes(outcome.sizeBytes)]);
    if (outcome.rows !== undefined)
        out.push(['Rows', String(outcome.rows)]);
    if (outcome.durationSeconds !== undefined)
        out.push(['Duration', formatSeconds(outcome.durationSeconds)]);
    return out;
}
const SLACK_SECTION_MAX = 3000;
/** Slack incoming-webhook JSON: `text` (the notification and the fallback) plus Block Kit blocks. */
function slackMessage(outcome, ctx) {
    const icon = outcome.ok ? ':white_check_mark:' : outcome.status === 'cancelled' ? ':warning:' : ':x:';
    const title = `${icon} ${slackEscape(headline(outcome))}`;
    const head = [`*${title}*`, ...facts(outcome).map(([k, v]) => `*${k}:* ${slackEscape(v)}`)];
    // A section's text is limited to 3000 characters; the reason gets what the head leaves.
    const room = Math.max(200, SLACK_SECTION_MAX - head.join('\n').length - 10);
    const reason = outcome.reason
        ? truncate(slackEscape(outcome.reason).replace(/```/g, "'''"), room)
        : undefined;
    const lines = [...head, ...(reason ? ['```' + reason + '```'] : [])];
    const context = [`host ${slackEscape(ctx.host)}`, `dbdrill ${version/* DBDRILL_VERSION */.P}`, ctx.at.toISOString()];
    if (ctx.runUrl)
        context.unshift(`<${ctx.runUrl}|View the run>`);
    const text = [title, outcome.reason ? slackEscape(firstLine(outcome.reason)) : '', ctx.runUrl ?? '']
        .filter(Boolean)
        .join('\n');
    return {
        text,
        blocks: [
            { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
            { type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] },
        ],
    };
}
/** Slack's mrkdwn treats &, < and > as markup; everything else is literal. */
function slackEscape(text) {
    return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
function firstLine(text) {
    return text.split('\n', 1)[0].slice(0, 300);
}
function truncate(text, max) {
    return text.length <= max ? text : text.slice(0, max - 1) + '…';
}
function formatSeconds(s) {
    if (s < 120)
        return `${Math.round(s * 10) / 10} s`;
    if (s < 7200)
        return `${Math.round(s / 6) / 10} min`;
    return `${Math.round(s / 360) / 10} h`;
}
function formatBytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = n;
    let i = 0;
    while (v >= 1024 && i < units.length - 1) {
        v /= 1024;
        i++;
    }
    return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/notify/announce.js
/**
 * The one entry the use-case adapters call: `announceStart` when a run begins, `announce` with its
 * Outcome when it ends. Everything here is fail-soft by construction: each channel (ping, webhooks,
 * metrics file, Pushgateway) runs on its own, a channel that fails becomes a logged warning naming
 * the endpoint with its secrets masked, and neither function ever throws, so the caller can await
 * it in a `finally` without a monitoring outage changing the run's verdict or exit code.
 */











/** Sends the `/start` ping, when a ping-url is set. Never throws. */
async function announceStart(deps, settings, command, name) {
    return neverThrows(deps, () => collect(deps, [
        safely('ping', settings.pingUrl, async () => {
            registerNotifySecrets(deps.logger, settings);
            const body = `dbdrill ${command} of "${name}" started on ${deps.host ?? (0,external_node_os_.hostname)()}`;
            return fromDelivery('ping', await ping(deliveryDeps(deps), settings.pingUrl, 'start', body, settings.policy));
        }),
    ]));
}
/** Tells every configured channel how the run ended. Never throws. */
async function announce(deps, settings, outcome) {
    return neverThrows(deps, () => announceOutcome(deps, settings, outcome));
}
async function announceOutcome(deps, settings, outcome) {
    try {
        registerNotifySecrets(deps.logger, settings);
    }
    catch {
        /* a logger that cannot register secrets still gets masked endpoints from this module */
    }
    const redact = redactorOf(deps);
    const at = outcome.finishedAt ?? deps.clock.now();
    const clean = {
        ...outcome,
        reason: outcome.reason === undefined ? undefined : redact(outcome.reason),
        phase: outcome.phase === undefined ? undefined : redact(outcome.phase),
        bundle: outcome.bundle === undefined ? undefined : redact(outcome.bundle),
    };
    const runUrl = runUrlFrom(deps.env);
    const ctx = { at, runUrl, host: deps.host ?? (0,external_node_os_.hostname)() };
    const http = deliveryDeps(deps);
    const labels = { job: `${settings.metricsJob}_${outcome.command}`, name: outcome.name };
    const tasks = [
        safely('ping', settings.pingUrl, async () => fromDelivery('ping', await ping(http, settings.pingUrl, outcome.ok ? 'success' : 'fail', pingBody(clean, ctx), settings.policy))),
        ...(shouldNotify(settings.notifyOn, outcome) ? settings.notifyUrls : []).map((target) => safely('notify', target.url, async () => {
            const payload = target.format === 'slack' ? slackMessage(clean, ctx) : notifyEvent(clean, ctx);
            const delivery = await deliver(http, {
                method: 'POST',
                url: target.url,
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify(payload),
            }, settings.policy);
            return fromDelivery('notify', delivery);
        })),
        safely('metrics-file', settings.metricsFile, async () => {
            await writeMetricsFile(deps.files ?? nodeTextFileIo, settings.metricsFile, outcome, labels, at);
            return { channel: 'metrics-file', ok: true, target: settings.metricsFile };
        }),
        safely('pushgateway', settings.pushgatewayUrl, async () => fromDelivery('pushgateway', await pushMetrics(http, { url: settings.pushgatewayUrl, ...labels }, outcome, at, settings.policy))),
    ];
    return collect(deps, tasks);
}
/**
 * The whole protocol around one use case, for adapters that want it in one call: the start ping,
 * the run, then `announce` with the result's outcome or, when the run throws, with the error's
 * (and the error is rethrown untouched, so exit codes and messages stay the use case's own).
 * `outcomeOf` turns a result that is not ok into a failed outcome (verify returns ok: false
 * rather than throwing).
 */
async function runAnnounced(deps, settings, command, name, run, outcomeOf) {
    await announceStart(deps, settings, command, name);
    const started = deps.clock.monotonicMs();
    let result;
    try {
        result = await run();
    }
    catch (error) {
        const durationSeconds = Math.round(deps.clock.monotonicMs() - started) / 1000;
        await announce(deps, settings, errorOutcome(command, name, error, { durationSeconds }));
        throw error;
    }
    let outcome;
    try {
        outcome = outcomeOf(result);
        // verify reports no duration of its own; the wall time around it is the honest figure
        outcome.durationSeconds ??= Math.round(deps.clock.monotonicMs() - started) / 1000;
    }
    catch (e) {
        deps.logger.warning(`could not describe the ${command} result for notifications: ${(0,errors/* messageOf */.bD)(e)}`);
        return result;
    }
    await announce(deps, settings, outcome);
    return result;
}
function shouldNotify(on, outcome) {
    return on === 'always' || (on === 'failure' && !outcome.ok);
}
/** healthchecks.io shows the body in its event log: the verdict, the link, the numbers, then the reason. */
function pingBody(outcome, ctx) {
    const lines = [headline(outcome)];
    if (ctx.runUrl)
        lines.push(ctx.runUrl);
    for (const [k, v] of facts(outcome))
        lines.push(`${k}: ${v}`);
    lines.push(`host ${ctx.host}, ${ctx.at.toISOString()}`);
    if (outcome.reason)
        lines.push('', outcome.reason);
    return lines.join('\n');
}
/** Runs one channel when it is configured; turns anything it throws into a failed result. */
function safely(channel, target, run) {
    if (!target)
        return Promise.resolve(undefined);
    const shown = channel === 'metrics-file' ? target : (0,notify_endpoint/* maskUrl */.yP)(target);
    return run().catch((e) => ({
        channel,
        ok: false,
        target: shown,
        warning: `${shown}: ${(0,errors/* messageOf */.bD)(e)}`,
    }));
}
function fromDelivery(channel, d) {
    return { channel, ok: d.ok, target: d.endpoint, warning: d.ok ? undefined : d.error };
}
const WHAT = {
    ping: 'dead-man ping failed',
    notify: 'notification not delivered',
    'metrics-file': 'metrics file not written',
    pushgateway: 'metrics not pushed to the Pushgateway',
};
async function collect(deps, tasks) {
    const results = (await Promise.all(tasks)).filter((r) => r !== undefined);
    const warnings = [];
    for (const r of results) {
        if (r.ok) {
            deps.logger.info(r.channel === 'metrics-file' ? `metrics written to ${r.target}` : `${r.channel}: sent to ${r.target}`);
            continue;
        }
        const text = `${WHAT[r.channel]} (the run's result is unchanged): ${r.warning ?? r.target}`;
        r.warning = text;
        warnings.push(text);
        deps.logger.warning(text);
    }
    return { results, warnings };
}
/** The last line of the fail-soft promise: even a bug in this module ends as a warning. */
async function neverThrows(deps, run) {
    try {
        return await run();
    }
    catch (e) {
        const text = `notifications skipped (the run's result is unchanged): ${(0,errors/* messageOf */.bD)(e)}`;
        try {
            deps.logger.warning(text);
        }
        catch {
            /* nothing left to tell */
        }
        return { results: [], warnings: [text] };
    }
}
function redactorOf(deps) {
    if (deps.redact)
        return deps.redact;
    const own = deps.logger.redactor;
    if (own && typeof own.redact === 'function')
        return (t) => own.redact(t);
    return logger/* redactUrlPasswords */.BM;
}
function deliveryDeps(deps) {
    return {
        fetch: deps.fetch ?? ((url, init) => fetch(url, init)),
        sleep: deps.sleep ?? realSleep,
        redact: redactorOf(deps),
    };
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/notify/fleet-announce.js
/**
 * A fleet run is heard from per member and once as a whole: one webhook notification and one
 * metrics series per member (labelled by the member's name, so members never overwrite each
 * other's metrics), and one dead-man ping for the fleet run (`/start` before, success or `/fail`
 * after), because the ping's check watches that the scheduled run happens at all. Fail-soft like
 * every channel: nothing here changes the run's result or exit code.
 */


/**
 * `outcomesOf` describes a finished fleet run; `resultOf` finds the fleet result on a failed
 * run's error (a fleet with failed members still has one). A run that ended before it had a
 * result (a usage error) is announced once, as the fleet, on every channel.
 */
async function runFleetAnnounced(deps, settings, command, name, run, outcomesOf, resultOf) {
    await announceStart(deps, settings, command, name);
    const started = deps.clock.monotonicMs();
    let result;
    let thrown;
    try {
        result = await run();
    }
    catch (error) {
        thrown = { error };
        result = resultOf(error);
    }
    let outcomes;
    try {
        if (result !== undefined)
            outcomes = outcomesOf(result);
    }
    catch {
        outcomes = undefined;
    }
    if (!outcomes) {
        const durationSeconds = Math.round(deps.clock.monotonicMs() - started) / 1000;
        await announce(deps, settings, errorOutcome(command, name, thrown?.error, { durationSeconds }));
    }
    else {
        const perMember = { ...settings, pingUrl: undefined };
        for (const outcome of outcomes.members)
            await announce(deps, perMember, outcome);
        const pingOnly = {
            ...settings,
            notifyUrls: [],
            metricsFile: undefined,
            pushgatewayUrl: undefined,
        };
        await announce(deps, pingOnly, outcomes.fleet);
    }
    if (thrown)
        throw thrown.error;
    return result;
}

;// CONCATENATED MODULE: ./build/ncc-src/src/core/notify/index.js
/** What adapters need from the notify module: announce/announceStart (or runAnnounced), the Outcome builders and the settings (parsed by options/notify-options.ts). */







/***/ })

};
