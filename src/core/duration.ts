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

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const s = Math.abs(seconds);
  const sign = seconds < 0 ? '-' : '';
  if (s < 60) return `${sign}${s < 10 ? s.toFixed(2) : s.toFixed(1)}s`;
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.round(s % 60);
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', sec && !d ? `${sec}s` : ''].filter(
    Boolean,
  );
  return sign + parts.join('');
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
