/**
 * The drill options that still arrive as text and are read here, each in one function so that
 * parsing them up front (before any work starts) changes one place.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { loadHealthChecksFile, parseHealthUrls, type HealthCheck } from '../checks/health.js';
import { ConfigError } from '../errors.js';
import type { DrillOptions } from '../options.js';

/** health-urls lines, then the health-checks file's checks. */
export async function healthChecksOf(
  options: Pick<DrillOptions, 'healthUrls' | 'healthChecksFile'>,
): Promise<HealthCheck[]> {
  const checks = parseHealthUrls(options.healthUrls);
  if (options.healthChecksFile) checks.push(...(await loadHealthChecksFile(options.healthChecksFile)));
  return checks;
}

/** post-restore-sql items: inline SQL, `@file.sql`, or `@dir` (its *.sql files in name order). */
export async function postRestoreSqlOf(options: Pick<DrillOptions, 'postRestoreSql'>): Promise<string[]> {
  const out: string[] = [];
  for (const item of options.postRestoreSql) {
    if (!item.startsWith('@')) {
      out.push(item);
      continue;
    }
    const path = item.slice(1);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new ConfigError(`post-restore-sql: file "${path}" does not exist`);
    if (info.isDirectory()) {
      for (const f of (await readdir(path)).filter((x) => x.endsWith('.sql')).sort()) {
        out.push(await readFile(join(path, f), 'utf8'));
      }
    } else out.push(await readFile(path, 'utf8'));
  }
  return out;
}
