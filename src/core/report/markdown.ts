import type { DrillReport, DrillPhase, HistoryEntry, Objective, PhaseStatus } from './model.js';
import { slowerThanMedian } from './history.js';
import { formatDuration } from '../duration.js';
import { cleanLogLine, formatInt, mdCode, mdFence, mdText, mermaidText, redactDeep } from './format.js';

export interface MarkdownOptions {
  redact?: (s: string) => string;
  /** History points charted; default 20. */
  historyLimit?: number;
  /** Count mismatches listed before "… and N more"; default 50. */
  maxCountRows?: number;
}

const STATUS_HEADLINE = {
  passed: '✅ Restore drill passed',
  failed: '❌ Restore drill failed',
  cancelled: '⏹️ Restore drill cancelled',
} as const;
const PHASE_ICON: Record<PhaseStatus, string> = { ok: '✅', failed: '❌', skipped: '⏭️', cancelled: '⏹️' };
/** Keeps the job summary far below GitHub's 1 MiB limit; the JSON has everything. */
const MAX_ROWS = 50;
const ok = (b: boolean): string => (b ? '✅' : '❌');

/**
 * The drill report as GitHub-flavoured Markdown; it doubles as the job summary, so the top
 * answers "did it pass, and within which RPO/RTO" before any detail.
 */
export function renderMarkdown(report: DrillReport, options: MarkdownOptions = {}): string {
  const redact = options.redact;
  const r = redact ? redactDeep(report, redact) : report;
  const out: string[] = [];

  out.push(
    `## ${STATUS_HEADLINE[r.status] ?? mdText(String(r.status))}${r.name ? `: ${mdText(r.name)}` : ''}`,
    '',
  );
  if (r.error) {
    // The job summary's first line after the status: why, before any table.
    out.push(
      `**Why:** stopped in ${mdText(r.error.phase)}: ${mdText(r.error.message, 1000)}`,
      ...(r.error.hint ? ['', `**Next:** ${mdText(r.error.hint, 1000)}`] : []),
      '',
    );
  }
  const headline: string[] = [];
  if (r.rtoSeconds !== undefined) headline.push(`**RTO** ${objectiveText(r.rtoSeconds, r.objectives.rto)}`);
  if (r.rpoSeconds !== undefined) headline.push(`**RPO** ${objectiveText(r.rpoSeconds, r.objectives.rpo)}`);
  const failedChecks = r.checks.filter((c) => !c.ok && !c.skipped);
  const skippedChecks = r.checks.filter((c) => c.skipped).length;
  const ran = r.checks.length - skippedChecks;
  headline.push(
    ran === 0
      ? `**Checks** none ran${r.error ? ` (stopped in ${mdText(r.error.phase)})` : ''}`
      : `**Checks** ${ran - failedChecks.length}/${ran} passed${skippedChecks ? `, ${skippedChecks} skipped` : ''}`,
  );
  if (r.rtoSeconds === undefined && r.status !== 'passed') headline.push('**RTO** not measured');
  out.push(headline.join(' · '), '');

  const facts: string[] = [];
  if (r.bundle)
    facts.push(
      `- **Bundle:** ${mdCode(r.bundle)}${r.bundleCreatedAt ? ` (created ${r.bundleCreatedAt})` : ''}`,
    );
  if (r.bundleSha256) facts.push(`- **Bundle sha256:** ${mdCode(r.bundleSha256)}`);
  const sources = r.sources ?? (r.source ? [r.source] : []);
  for (const s of sources) {
    const parts = [
      s.database !== undefined ? `database ${mdCode(s.database)}` : undefined,
      s.serverVersion
        ? `${s.engine === 'mongodb' ? 'MongoDB' : 'PostgreSQL'} ${mdText(s.serverVersion)}`
        : undefined,
      s.systemIdentifier ? `system identifier ${mdCode(s.systemIdentifier)}` : undefined,
    ].filter((x): x is string => !!x);
    if (parts.length) facts.push(`- **Source:** ${parts.join(', ')}`);
  }
  if (r.target) {
    const version = r.target.serverVersion ? `, PostgreSQL ${mdText(r.target.serverVersion)}` : '';
    facts.push(`- **Target:** ${mdText(r.target.kind)} ${mdCode(r.target.display)}${version}`);
  }
  facts.push(
    `- **Drill:** ${r.startedAt} → ${r.finishedAt} (${formatDuration(spanSeconds(r.startedAt, r.finishedAt))})`,
  );
  if (r.runner) {
    const extra = [r.runner.platform, r.runner.node ? `Node ${r.runner.node}` : undefined].filter(Boolean);
    facts.push(
      `- **Runner:** ${mdCode(r.runner.host)}, ${mdText(r.tool.name)} ${mdText(r.tool.version)}` +
        (extra.length ? ` (${mdText(extra.join(', '))})` : ''),
    );
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
    out.push(
      '<details open><summary>App log (last ' + r.appLogTail.length + ' lines)</summary>',
      '',
      mdFence(r.appLogTail.map(cleanLogLine)),
      '',
      '</details>',
      '',
    );
  }
  if (r.history?.length) renderHistory(r, out, options.historyLimit ?? 20);
  if (r.notes.length) {
    out.push('### Notes', '', ...r.notes.map((n) => `- ${mdText(n, 2000)}`), '');
  }
  out.push(
    `<sub>${mdText(r.tool.name)} ${mdText(r.tool.version)} · report schema v${r.schemaVersion} · ` +
      'RPO = drill start − backup end; RTO = drill start → all health checks pass</sub>',
    '',
  );
  const text = out.join('\n');
  return redact ? redact(text) : text;
}

function objectiveText(actual: number, objective: Objective | undefined): string {
  if (!objective) return formatDuration(actual);
  return `${formatDuration(actual)} ${objective.ok ? '≤' : '>'} ${formatDuration(objective.budgetSeconds)} ${ok(objective.ok)}`;
}

function renderObjectives(r: DrillReport, out: string[]): void {
  const rows: string[] = [];
  const row = (
    label: string,
    definition: string,
    actual: number | undefined,
    o: Objective | undefined,
  ): void => {
    if (actual === undefined && !o) return;
    const value = o?.actualSeconds ?? actual;
    const result = !o
      ? 'no budget'
      : value === undefined
        ? '❌ not measured'
        : o.ok
          ? '✅ within budget'
          : '❌ over budget';
    rows.push(
      `| ${label} | ${definition} | ${formatDuration(value)} | ${o ? formatDuration(o.budgetSeconds) : '—'} | ${result} |`,
    );
  };
  row('RTO', 'drill start → app healthy', r.rtoSeconds, r.objectives.rto);
  row('RPO', 'drill start − backup end', r.rpoSeconds, r.objectives.rpo);
  if (!rows.length) return;
  out.push(
    '### Objectives',
    '',
    '| Objective | Definition | Actual | Budget | Result |',
    '|---|---|---:|---:|---|',
    ...rows,
    '',
  );
}

function renderPhases(phases: DrillPhase[], out: string[]): void {
  if (!phases.length) return;
  out.push('### Phases', '', '| Phase | Status | Started | Duration | Detail |', '|---|---|---|---:|---|');
  for (const p of phases) {
    out.push(
      `| ${mdText(p.name)} | ${PHASE_ICON[p.status] ?? ''} ${mdText(p.status)} | ${p.startedAt.slice(11, 19)} | ` +
        `${formatDuration(p.seconds)} | ${mdText(p.detail ?? '')} |`,
    );
  }
  out.push('');
  const gantt = renderGantt(phases);
  if (gantt) out.push(gantt, '');
}

/**
 * A mermaid gantt of the phases. Times are epoch milliseconds (`dateFormat x`) and durations
 * `<n>ms`, because phases are often sub-second and mermaid's default day resolution would
 * flatten them; skipped phases took no time and are left out.
 */
export function renderGantt(phases: DrillPhase[]): string | undefined {
  const timed = phases
    .map((p, i) => ({ p, i, start: Date.parse(p.startedAt) }))
    .filter((x) => x.p.status !== 'skipped' && Number.isFinite(x.start));
  if (!timed.length) return undefined;
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
    lines.push(
      `  ${mermaidText(p.name)} (${mermaidText(formatDuration(p.seconds))}) :${tag}, p${i}, ${start}, ${ms}ms`,
    );
  }
  lines.push('```');
  return lines.join('\n');
}

/**
 * Every check that ran, grouped (verify layers, restore, KEK, each assert-sql query with its
 * result, sequences, health, objectives), so a passed drill shows what it proved and not only
 * that nothing failed. Long groups fold into details blocks to keep the summary short.
 */
function renderAllChecks(r: DrillReport, out: string[]): void {
  if (!r.checks.length) return;
  const groups = new Map<string, typeof r.checks>();
  for (const c of r.checks) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  out.push('### Checks', '');
  for (const [group, checks] of groups) {
    const bad = checks.filter((c) => !c.ok && !c.skipped).length;
    const skipped = checks.filter((c) => c.skipped).length;
    const summary =
      `${bad ? '❌' : '✅'} ${mdText(group)}: ${checks.length - bad - skipped}/${checks.length - skipped} passed` +
      (skipped ? `, ${skipped} skipped` : '');
    out.push(`<details${bad ? ' open' : ''}><summary>${summary}</summary>`, '');
    out.push('| | Check | Detail |', '|---|---|---|');
    for (const c of checks.slice(0, MAX_ROWS)) {
      const icon = c.skipped ? '⏭️' : ok(c.ok);
      out.push(`| ${icon} | ${mdText(c.name)} | ${mdText(c.detail ?? '')} |`);
    }
    if (checks.length > MAX_ROWS) out.push(`| | … and ${checks.length - MAX_ROWS} more (see junit.xml) | |`);
    out.push('', '</details>', '');
  }
}

function renderCounts(r: DrillReport, out: string[], maxRows: number): void {
  if (!r.counts.length) return;
  const bad = r.counts.filter((c) => !c.ok);
  const sum = (k: 'expected' | 'actual'): number => r.counts.reduce((s, c) => s + (c[k] ?? 0), 0);
  out.push('### Row counts', '');
  out.push(
    `${ok(bad.length === 0)} **${r.counts.length - bad.length} of ${r.counts.length}** tables match` +
      ` · total rows expected ${formatInt(sum('expected'))}, actual ${formatInt(sum('actual'))}`,
    '',
  );
  if (!bad.length) return;
  out.push('| Table | Source | Expected | Actual | Diff |', '|---|---|---:|---:|---:|');
  for (const c of bad.slice(0, maxRows)) {
    out.push(
      `| ${mdCode(c.name)} | ${c.source} | ${formatInt(c.expected)} | ${formatInt(c.actual)} | ${diffText(c.expected, c.actual)} |`,
    );
  }
  if (bad.length > maxRows)
    out.push(`| … and ${bad.length - maxRows} more (see drill-report.json) | | | | |`);
  if (r.counts.length > 10) {
    out.push(
      `| **Total (${r.counts.length} tables)** | | ${formatInt(sum('expected'))} | ${formatInt(sum('actual'))} | ${diffText(sum('expected'), sum('actual'))} |`,
    );
  }
  out.push('');
}

function diffText(expected: number | null, actual: number | null): string {
  if (expected === null || actual === null) return expected === null ? 'not in source' : 'missing';
  const d = actual - expected;
  const pct = expected ? ` (${d > 0 ? '+' : ''}${((d / expected) * 100).toFixed(1)} %)` : '';
  return `${d > 0 ? '+' : ''}${formatInt(d)}${pct}`;
}

function renderStructure(r: DrillReport, out: string[]): void {
  if (!r.structure?.length) return;
  out.push('### Structure', '', '| Kind | Expected | Actual | Missing |', '|---|---:|---:|---|');
  for (const s of r.structure) {
    const shown = s.missing.slice(0, 10).map(mdCode).join(', ');
    const more = s.missing.length > 10 ? ` and ${s.missing.length - 10} more` : '';
    const icon = s.missing.length === 0 && s.actual >= s.expected ? '✅' : '❌';
    out.push(`| ${icon} ${mdText(s.kind)} | ${s.expected} | ${s.actual} | ${shown}${more} |`);
  }
  out.push('');
}

function renderHealth(r: DrillReport, out: string[]): void {
  if (!r.health.length) return;
  out.push(
    '### Health checks',
    '',
    '| Check | Result | Attempts | Status | Time | Last error |',
    '|---|---|---:|---:|---:|---|',
  );
  for (const h of r.health) {
    const name = h.name.includes(h.url) ? mdText(h.name) : `${mdText(h.name)}<br>${mdCode(h.url)}`;
    out.push(
      `| ${name} | ${ok(h.ok)} | ${h.attempts} | ${h.status ?? '—'} | ${formatDuration(h.seconds)} | ${mdText(h.lastError ?? '')} |`,
    );
  }
  out.push('');
  const failed = r.health.filter((h) => !h.ok && h.bodySnippet);
  for (const h of failed) {
    out.push(
      `<details><summary>Last response of ${mdText(h.name)}</summary>`,
      '',
      mdFence([h.bodySnippet ?? '']),
      '',
      '</details>',
      '',
    );
  }
}

function renderRestoreErrors(r: DrillReport, out: string[]): void {
  if (!r.restoreErrors.length) return;
  const fatal = r.restoreErrors.filter((e) => !e.ignored).length;
  out.push(
    '### Restore errors',
    '',
    `${fatal} failing, ${r.restoreErrors.length - fatal} ignored by \`ignore-restore-errors\``,
    '',
    '| | Error | Ignored because |',
    '|---|---|---|',
  );
  // Failing errors first, so the cap never hides one behind ignored ones.
  const ordered = [...r.restoreErrors].sort((a, b) => Number(a.ignored) - Number(b.ignored));
  for (const e of ordered.slice(0, MAX_ROWS)) {
    out.push(
      `| ${e.ignored ? '⚪' : '❌'} | ${mdText(e.message)} | ${e.ignored ? mdText(e.reason ?? '(no reason given)') : ''} |`,
    );
  }
  if (r.restoreErrors.length > MAX_ROWS) {
    out.push(`| | … and ${r.restoreErrors.length - MAX_ROWS} more (see drill-report.json) | |`);
  }
  out.push('');
}

function renderHistory(r: DrillReport, out: string[], limit: number): void {
  const past = r.history ?? [];
  out.push('### Trend', '');
  const { flag, median } = slowerThanMedian(past, r.rtoSeconds);
  if (median !== undefined && r.rtoSeconds !== undefined) {
    out.push(
      flag
        ? `⚠️ **RTO ${formatDuration(r.rtoSeconds)} is slower than the median of earlier drills (${formatDuration(median)}) by more than 25 %.**`
        : `RTO ${formatDuration(r.rtoSeconds)} against a median of ${formatDuration(median)} over earlier drills.`,
      '',
    );
  }
  const points: HistoryEntry[] = [
    ...past,
    { startedAt: r.startedAt, rtoSeconds: r.rtoSeconds, rpoSeconds: r.rpoSeconds, status: r.status },
  ].slice(-limit);
  for (const [key, label] of [
    ['rtoSeconds', 'RTO'],
    ['rpoSeconds', 'RPO'],
  ] as const) {
    const chart = xyChart(points, key, label);
    if (chart) out.push(chart, '');
  }
}

/**
 * One mermaid xychart-beta line per objective: RPO (hours) and RTO (minutes) differ by orders of
 * magnitude, so a shared axis would flatten RTO to zero.
 */
function xyChart(
  points: HistoryEntry[],
  key: 'rtoSeconds' | 'rpoSeconds',
  label: string,
): string | undefined {
  const usable = points.filter((p) => typeof p[key] === 'number' && Number.isFinite(p[key]));
  if (usable.length < 2) return undefined;
  const max = Math.max(...usable.map((p) => p[key] as number));
  const [unit, div] = max >= 7200 ? ['hours', 3600] : max >= 120 ? ['minutes', 60] : ['seconds', 1];
  const values = usable.map((p) => Math.round(((p[key] as number) / div) * 100) / 100);
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

function spanSeconds(from: string, to: string): number | undefined {
  const s = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(s) ? s : undefined;
}
