import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { drillReportSchema } from './schema.js';

let compiled: ValidateFunction | undefined;

/**
 * Problems with a drill report, as readable sentences (`/phases/0/seconds must be >= 0`); empty
 * when it is valid. Besides the schema it checks what a schema cannot say: `ok` agrees with
 * `status`, and the drill does not end before it starts.
 */
export function validateDrillReport(json: unknown): string[] {
  compiled ??= new Ajv2020({ allErrors: true, strict: true }).compile(drillReportSchema);
  const problems: string[] = [];
  if (!compiled(json)) {
    for (const e of compiled.errors ?? []) {
      const where = e.instancePath || '(report)';
      const extra =
        e.keyword === 'enum'
          ? `: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`
          : '';
      problems.push(`${where} ${e.message ?? 'is invalid'}${extra}`);
    }
    return problems;
  }
  const r = json as { ok: boolean; status: string; startedAt: string; finishedAt: string };
  if (r.ok !== (r.status === 'passed')) problems.push(`/ok is ${r.ok} but /status is "${r.status}"`);
  if (Date.parse(r.finishedAt) < Date.parse(r.startedAt)) {
    problems.push(`/finishedAt ${r.finishedAt} is before /startedAt ${r.startedAt}`);
  }
  return problems;
}
