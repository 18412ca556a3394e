/**
 * Database URLs name their engine by scheme, so one list input can hold a PostgreSQL and a
 * MongoDB URL side by side (database-url, target-url, compare-url).
 */
import { ConfigError } from '../errors.js';

export type Engine = 'postgres' | 'mongodb';

export function engineFromUrl(url: string, input: string): Engine {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return 'postgres';
  if (scheme === 'mongodb' || scheme === 'mongodb+srv') return 'mongodb';
  throw new ConfigError(
    `${input} must be a URL starting with postgres://, postgresql://, mongodb:// or mongodb+srv:// (got "${scheme ? scheme + '://…' : 'no scheme'}")`,
  );
}

/** One URL per engine, matched by scheme (target-url, compare-url). */
export function byEngine(urls: string[], input: string): Partial<Record<Engine, string>> {
  const out: Partial<Record<Engine, string>> = {};
  for (const url of urls) {
    const engine = engineFromUrl(url, input);
    if (out[engine]) {
      throw new ConfigError(
        `${input} has two ${engine} URLs; give at most one per engine (postgres://, mongodb://)`,
      );
    }
    out[engine] = url;
  }
  return out;
}
