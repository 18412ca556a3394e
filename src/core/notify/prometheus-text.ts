/**
 * dbdrill's metrics in the Prometheus text exposition format (version 0.0.4), written by hand:
 * eight gauges do not justify a client library, and the textfile collector needs the parser
 * anyway (a failed run keeps the previous last-success time, which only the old file knows).
 */
import type { Outcome } from './outcome.js';

export interface MetricFamily {
  name: string;
  help: string;
}

/** Every family dbdrill writes, in the order they are written. */
export const METRIC_FAMILIES = [
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
] as const satisfies readonly MetricFamily[];

export type MetricName = (typeof METRIC_FAMILIES)[number]['name'];

export type Labels = Record<string, string>;

export interface Sample {
  name: MetricName;
  labels: Labels;
  value: number;
}

/**
 * The samples one outcome measured. A number the run did not measure is absent (not 0), so a
 * failed run does not overwrite the last good size or RTO with nonsense, and last-success appears
 * only when the run succeeded.
 */
export function outcomeSamples(outcome: Outcome, finishedAt: Date, labels: Labels): Sample[] {
  const at = finishedAt.getTime() / 1000;
  const values: [MetricName, number | undefined][] = [
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
    .filter((v): v is [MetricName, number] => typeof v[1] === 'number' && !Number.isNaN(v[1]))
    .map(([name, value]) => ({ name, labels, value }));
}

/** Renders samples grouped by family (the format requires a family's samples to be contiguous). */
export function renderExposition(samples: Sample[]): string {
  const out: string[] = [];
  for (const family of METRIC_FAMILIES) {
    const mine = samples
      .filter((s) => s.name === family.name)
      .map((s) => `${s.name}${renderLabels(s.labels)} ${formatValue(s.value)}`)
      .sort();
    if (mine.length === 0) continue;
    out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} gauge`, ...mine);
  }
  return out.length ? out.join('\n') + '\n' : '';
}

function renderLabels(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabelValue(labels[k])}"`).join(',')}}`;
}

/** Label values escape backslash, double quote and line feed; nothing else. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escapes backslash and line feed (not quotes). */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

const KNOWN = new Set<string>(METRIC_FAMILIES.map((f) => f.name));

/**
 * Reads back the samples of dbdrill's own families from a file it wrote earlier. Comments, other
 * families and lines it cannot read are skipped: the file is rewritten from what is understood.
 */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+-?\d+)?$/.exec(line);
    if (!m || !KNOWN.has(m[1])) continue;
    const labels = m[2] ? parseLabels(m[2]) : {};
    const value = parseValue(m[3]);
    if (!labels || value === undefined) continue;
    out.push({ name: m[1] as MetricName, labels, value });
  }
  return out;
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const n = Number(text);
  return Number.isNaN(n) ? undefined : n;
}

/** `{a="x",b="y \"q\""}` → labels, honouring the three escapes; undefined when malformed. */
function parseLabels(text: string): Labels | undefined {
  const labels: Labels = {};
  let i = 1;
  const end = text.length - 1;
  while (i < end) {
    const name = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/.exec(text.slice(i));
    if (!name) return undefined;
    i += name[0].length;
    let value = '';
    for (;;) {
      if (i >= end) return undefined;
      const c = text[i++];
      if (c === '"') break;
      if (c === '\\') {
        const next = text[i++];
        value += next === 'n' ? '\n' : next;
      } else value += c;
    }
    labels[name[1]] = value;
    const sep = /^\s*,?\s*/.exec(text.slice(i));
    i += sep ? sep[0].length : 0;
  }
  return labels;
}

/** True when both label sets are equal. */
export function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}
