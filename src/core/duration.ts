import { ConfigError } from './errors.js';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * Parses budgets such as `26h`, `45m`, `1h30m` or `7d`. Budgets are what operators write in
 * runbooks, so the units are the ones they use; a bare number is refused, because `--rto 45` is as
 * likely meant as minutes as seconds, and guessing wrong passes or fails a drill silently.
 */
export function parseDuration(value: string, input: string): number {
  const text = value.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) {
    throw new ConfigError(
      `${input} "${value}" has no unit; write it with one of s (seconds), m (minutes), h (hours), d (days) or w (weeks), e.g. ${text}s or ${text}m`,
    );
  }
  const re = /(\d+(?:\.\d+)?)\s*([smhdw])/g;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNIT_SECONDS[m[2]];
    consumed += m[0].length;
  }
  if (!text || consumed !== text.replace(/\s+/g, '').length) {
    throw new ConfigError(
      `${input} "${value}" is not a duration; expected a number with a unit, e.g. 90s, 45m, 26h, 7d or 1h30m`,
    );
  }
  return total;
}

/**
 * Human duration: `0.42 s`, `12.3 s`, `4m 05s`, `26h 03m`, and `—` when there is none. One
 * spelling everywhere (log lines, `list`, the report), so an operator compares like with like.
 */
export function formatDuration(seconds: number | undefined | null): string {
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds)) return '—';
  if (seconds < 0) return '-' + formatDuration(-seconds);
  if (seconds < 1) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  if (total < 3600) return `${Math.floor(total / 60)}m ${pad2(total % 60)}s`;
  return `${Math.floor(total / 3600)}h ${pad2(Math.floor((total % 3600) / 60))}m`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}
