import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { redactUrlPasswords } from '../logger.js';
import type { DrillReport } from './model.js';
import { redactDeep } from './format.js';
import { renderJUnit } from './junit.js';
import { renderMarkdown } from './markdown.js';

export const REPORT_FILES = {
  json: 'drill-report.json',
  markdown: 'drill-report.md',
  junit: 'junit.xml',
} as const;

export interface WrittenReport {
  json: string;
  markdown: string;
  junit: string;
  /** Schema problems of the written JSON; the files are written anyway, since a drill's evidence must not be lost. */
  problems: string[];
}

/**
 * Writes drill-report.json, drill-report.md and junit.xml. Every string goes through `redact`
 * (and URL passwords are always masked) before rendering and again on the finished text, so a
 * secret cannot reach a report file even when escaping would have changed it. Each file is
 * written to a temp name and renamed, so a crash never leaves a half report that looks whole.
 */
export async function writeDrillReport(
  dir: string,
  report: DrillReport,
  options: { redact?: (s: string) => string } = {},
): Promise<WrittenReport> {
  const given = options.redact;
  const redact = (s: string): string => redactUrlPasswords(given ? given(s) : s);
  const clean = redactDeep(report, redact);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths = {
    json: join(dir, REPORT_FILES.json),
    markdown: join(dir, REPORT_FILES.markdown),
    junit: join(dir, REPORT_FILES.junit),
  };
  await writePrivate(paths.json, redact(JSON.stringify(clean, null, 2) + '\n'));
  await writePrivate(paths.markdown, renderMarkdown(clean, { redact }));
  await writePrivate(paths.junit, redact(renderJUnit(clean)));
  // ajv (the schema validator) loads only when a report is written
  const { validateDrillReport } = await import('./validate.js');
  return { ...paths, problems: validateDrillReport(clean) };
}

async function writePrivate(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
