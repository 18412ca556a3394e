/**
 * JSON Schema (draft 2020-12) of `drill-report.json`, version 1. Kept as a TS object so the
 * bundled actions carry it without a JSON import (`JSON.stringify(drillReportSchema)` gives the
 * file for outside readers). Objects allow unknown keys on purpose: see the versioning rule in model.ts.
 */
const isoTime = {
  type: 'string',
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$',
} as const;
const seconds = { type: 'number', minimum: 0 } as const;
const text = { type: 'string' } as const;
const nonEmpty = { type: 'string', minLength: 1 } as const;
const nullableCount = { type: ['integer', 'null'], minimum: 0 } as const;

const sourceSchema = {
  type: 'object',
  properties: { engine: text, database: text, serverVersion: text, systemIdentifier: text },
} as const;

const objective = {
  type: 'object',
  required: ['budgetSeconds', 'ok'],
  properties: { budgetSeconds: seconds, actualSeconds: { type: 'number' }, ok: { type: 'boolean' } },
} as const;

export const DRILL_REPORT_SCHEMA_ID = 'https://github.com/dbdrill/dbdrill/schemas/drill-report-v1.json';

export const drillReportSchema = {
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
    name: text,
    bundle: text,
    bundleCreatedAt: isoTime,
    bundleSha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    source: sourceSchema,
    sources: { type: 'array', minItems: 2, items: sourceSchema },
    runner: {
      type: 'object',
      required: ['host'],
      properties: { host: text, platform: text, node: text },
    },
    error: {
      type: 'object',
      required: ['phase', 'message'],
      properties: { phase: nonEmpty, message: text, hint: text },
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
          detail: text,
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
          detail: text,
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
          schema: text,
          table: text,
          tree: {
            type: 'object',
            required: ['leaves', 'why'],
            properties: { leaves: { type: 'array', items: text }, why: nonEmpty },
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
          missing: { type: 'array', items: text },
        },
      },
    },
    restoreErrors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['message', 'ignored'],
        properties: { message: text, ignored: { type: 'boolean' }, reason: text },
      },
    },
    health: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'url', 'ok', 'attempts', 'seconds'],
        properties: {
          name: nonEmpty,
          url: text,
          ok: { type: 'boolean' },
          attempts: { type: 'integer', minimum: 0 },
          status: { type: 'integer', minimum: 100, maximum: 599 },
          lastError: text,
          bodySnippet: { type: 'string', maxLength: 500 },
          seconds,
        },
      },
    },
    appLogTail: { type: 'array', items: text },
    target: {
      type: 'object',
      required: ['kind', 'display'],
      properties: { kind: { enum: ['url', 'local', 'docker'] }, display: text, serverVersion: text },
    },
    notes: { type: 'array', items: text },
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
} as const;
