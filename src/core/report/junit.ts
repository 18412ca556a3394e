import type { DrillCheck, DrillReport } from './model.js';
import { cleanLogLine, xmlAttr, xmlEscape } from './format.js';

/**
 * The drill as JUnit XML, one test case per check (classname = group), so CI test-report
 * viewers show which check failed without reading the Markdown. A drill that failed or was
 * cancelled without any failed check (e.g. a crash between phases) gets one extra failing case,
 * so the XML never looks green for a red drill.
 */
export function renderJUnit(report: DrillReport): string {
  const cases: DrillCheck[] = [...report.checks];
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
  const time = seconds(
    Number.isFinite(total) ? total / 1000 : cases.reduce((s, c) => s + (c.seconds ?? 0), 0),
  );
  const counts = `tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time}"`;

  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="dbdrill" ${counts}>`,
    `  <testsuite name="dbdrill drill" ${counts} timestamp="${xmlAttr(report.startedAt)}">`,
  ];
  const props: [string, string | number | undefined][] = [
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
    if (v !== undefined) lines.push(`      <property name="${k}" value="${xmlAttr(String(v))}"/>`);
  }
  lines.push('    </properties>');
  for (const c of cases) {
    const open = `    <testcase classname="${xmlAttr(c.group)}" name="${xmlAttr(c.name)}" time="${seconds(c.seconds ?? 0)}"`;
    if (c.skipped) {
      lines.push(
        `${open}>`,
        `      <skipped${c.detail ? ` message="${xmlAttr(c.detail)}"` : ''}/>`,
        '    </testcase>',
      );
    } else if (!c.ok) {
      const detail = c.detail ?? 'failed';
      const message = detail.split('\n')[0].slice(0, 500);
      lines.push(
        `${open}>`,
        `      <failure message="${xmlAttr(message)}" type="${xmlAttr(c.group)}">${xmlEscape(detail)}</failure>`,
        '    </testcase>',
      );
    } else {
      lines.push(`${open}/>`);
    }
  }
  if (report.appLogTail?.length) {
    lines.push(`    <system-out>${xmlEscape(report.appLogTail.map(cleanLogLine).join('\n'))}</system-out>`);
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

function seconds(s: number): string {
  return (Number.isFinite(s) && s > 0 ? s : 0).toFixed(3);
}
