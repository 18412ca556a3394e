export const id = 612;
export const ids = [612];
export const modules = {

/***/ 85612:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  validateDrillReport: () => (/* binding */ validateDrillReport)
});

// EXTERNAL MODULE: ./node_modules/ajv/dist/2020.js
var _2020 = __webpack_require__(52210);
;// CONCATENATED MODULE: ./build/ncc-src/src/core/report/schema.js
/**
 * JSON Schema (draft 2020-12) of `drill-report.json`, version 1. Kept as a TS object so the
 * bundled actions carry it without a JSON import (`JSON.stringify(drillReportSchema)` gives the
 * file for outside readers). Objects allow unknown keys on purpose: see the versioning rule in model.ts.
 */
const isoTime = {
    type: 'string',
    pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$',
};
const seconds = { type: 'number', minimum: 0 };
const schema_text = { type: 'string' };
const nonEmpty = { type: 'string', minLength: 1 };
const nullableCount = { type: ['integer', 'null'], minimum: 0 };
const sourceSchema = {
    type: 'object',
    properties: { engine: schema_text, database: schema_text, serverVersion: schema_text, systemIdentifier: schema_text },
};
const objective = {
    type: 'object',
    required: ['budgetSeconds', 'ok'],
    properties: { budgetSeconds: seconds, actualSeconds: { type: 'number' }, ok: { type: 'boolean' } },
};
const DRILL_REPORT_SCHEMA_ID = 'https://github.com/dbdrill/dbdrill/schemas/drill-report-v1.json';
const drillReportSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: DRILL_REPORT_SCHEMA_ID,
    title: 'dbdrill restore drill report',
    type: 'object',
    required: [
        'schemaVersion',
        'tool',
        'status',
        'ok',
        'startedAt',
        'finishedAt',
        'objectives',
        'phases',
        'checks',
        'counts',
        'restoreErrors',
        'health',
        'notes',
    ],
    properties: {
        schemaVersion: { const: 1 },
        tool: {
            type: 'object',
            required: ['name', 'version'],
            properties: { name: { const: 'dbdrill' }, version: nonEmpty },
        },
        status: { enum: ['passed', 'failed', 'cancelled'] },
        ok: { type: 'boolean' },
        name: schema_text,
        bundle: schema_text,
        bundleCreatedAt: isoTime,
        bundleSha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        source: sourceSchema,
        sources: { type: 'array', minItems: 2, items: sourceSchema },
        runner: {
            type: 'object',
            required: ['host'],
            properties: { host: schema_text, platform: schema_text, node: schema_text },
        },
        error: {
            type: 'object',
            required: ['phase', 'message'],
            properties: { phase: nonEmpty, message: schema_text, hint: schema_text },
        },
        startedAt: isoTime,
        finishedAt: isoTime,
        rtoSeconds: seconds,
        // Negative only with clock skew between the backup host and the drill host; reported, not hidden.
        rpoSeconds: { type: 'number' },
        objectives: {
            type: 'object',
            properties: { rto: objective, rpo: objective },
        },
        phases: {
            type: 'array',
            items: {
                type: 'object',
                required: ['name', 'startedAt', 'seconds', 'status'],
                properties: {
                    name: nonEmpty,
                    startedAt: isoTime,
                    seconds,
                    status: { enum: ['ok', 'failed', 'skipped', 'cancelled'] },
                    detail: schema_text,
                },
            },
        },
        checks: {
            type: 'array',
            items: {
                type: 'object',
                required: ['name', 'group', 'ok'],
                properties: {
                    name: nonEmpty,
                    group: nonEmpty,
                    ok: { type: 'boolean' },
                    skipped: { type: 'boolean' },
                    detail: schema_text,
                    seconds,
                },
            },
        },
        counts: {
            type: 'array',
            items: {
                type: 'object',
                required: ['name', 'expected', 'actual', 'ok', 'source'],
                properties: {
                    name: nonEmpty,
                    expected: nullableCount,
                    actual: nullableCount,
                    ok: { type: 'boolean' },
                    source: { enum: ['manifest', 'compare-url'] },
                    schema: schema_text,
                    table: schema_text,
                    tree: {
                        type: 'object',
                        required: ['leaves', 'why'],
                        properties: { leaves: { type: 'array', items: schema_text }, why: nonEmpty },
                    },
                },
            },
        },
        structure: {
            type: 'array',
            items: {
                type: 'object',
                required: ['kind', 'expected', 'actual', 'missing'],
                properties: {
                    kind: nonEmpty,
                    expected: { type: 'integer', minimum: 0 },
                    actual: { type: 'integer', minimum: 0 },
                    missing: { type: 'array', items: schema_text },
                },
            },
        },
        restoreErrors: {
            type: 'array',
            items: {
                type: 'object',
                required: ['message', 'ignored'],
                properties: { message: schema_text, ignored: { type: 'boolean' }, reason: schema_text },
            },
        },
        health: {
            type: 'array',
            items: {
                type: 'object',
                required: ['name', 'url', 'ok', 'attempts', 'seconds'],
                properties: {
                    name: nonEmpty,
                    url: schema_text,
                    ok: { type: 'boolean' },
                    attempts: { type: 'integer', minimum: 0 },
                    status: { type: 'integer', minimum: 100, maximum: 599 },
                    lastError: schema_text,
                    bodySnippet: { type: 'string', maxLength: 500 },
                    seconds,
                },
            },
        },
        appLogTail: { type: 'array', items: schema_text },
        target: {
            type: 'object',
            required: ['kind', 'display'],
            properties: { kind: { enum: ['url', 'local', 'docker'] }, display: schema_text, serverVersion: schema_text },
        },
        notes: { type: 'array', items: schema_text },
        history: {
            type: 'array',
            items: {
                type: 'object',
                required: ['startedAt', 'status'],
                properties: {
                    startedAt: isoTime,
                    rtoSeconds: { type: ['number', 'null'] },
                    rpoSeconds: { type: ['number', 'null'] },
                    status: { enum: ['passed', 'failed', 'cancelled'] },
                },
            },
        },
    },
};

;// CONCATENATED MODULE: ./build/ncc-src/src/core/report/validate.js


let compiled;
/**
 * Problems with a drill report, as readable sentences (`/phases/0/seconds must be >= 0`); empty
 * when it is valid. Besides the schema it checks what a schema cannot say: `ok` agrees with
 * `status`, and the drill does not end before it starts.
 */
function validateDrillReport(json) {
    compiled ??= new _2020.Ajv2020({ allErrors: true, strict: true }).compile(drillReportSchema);
    const problems = [];
    if (!compiled(json)) {
        for (const e of compiled.errors ?? []) {
            const where = e.instancePath || '(report)';
            const extra = e.keyword === 'enum'
                ? `: ${e.params.allowedValues.join(', ')}`
                : '';
            problems.push(`${where} ${e.message ?? 'is invalid'}${extra}`);
        }
        return problems;
    }
    const r = json;
    if (r.ok !== (r.status === 'passed'))
        problems.push(`/ok is ${r.ok} but /status is "${r.status}"`);
    if (Date.parse(r.finishedAt) < Date.parse(r.startedAt)) {
        problems.push(`/finishedAt ${r.finishedAt} is before /startedAt ${r.startedAt}`);
    }
    return problems;
}


/***/ })

};
