/** Small text helpers shared by the report writers. */

export function formatInt(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : n.toLocaleString('en-US');
}

/**
 * Applies `redact` to every string in a value (keys included), before any escaping: a secret
 * that contains `&` or `|` would no longer match after XML or Markdown escaping.
 */
export function redactDeep<T>(value: T, redact: (s: string) => string): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).map(([k, x]) => [redact(k), walk(x)]),
      );
    }
    return v;
  };
  return walk(value) as T;
}

/**
 * Text for Markdown prose and table cells: no raw HTML, no accidental links or emphasis, no
 * broken table rows. Report values come from databases, apps and users, so they are untrusted.
 */
export function mdText(s: string, maxLength = 500): string {
  let t = s.length > maxLength ? s.slice(0, maxLength - 1) + '…' : s;
  t = t
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|#~!])/g, '\\$1')
    .replace(/\r?\n/g, '<br>');
  return t;
}

/** An inline code span that survives backticks and pipes in the value (GFM tables). */
export function mdCode(s: string): string {
  const flat = s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A fenced block whose fence is longer than any backtick run inside, so logs cannot close it early. */
export function mdFence(lines: readonly string[], lang = 'text'): string {
  const body = lines.join('\n');
  const longest = Math.max(0, ...(body.match(/`{3,}/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${body}\n${fence}`;
}

/**
 * Text inside a mermaid diagram: `:` separates a gantt task from its data, `#` starts an
 * entity and `;` ends a statement, so each becomes a mermaid entity code.
 */
export function mermaidText(s: string): string {
  return s
    .replace(/[\r\n]+/g, ' ')
    .replace(/[#:;]/g, (c) => `#${c.charCodeAt(0)};`)
    .trim();
}

/** Strips characters XML 1.0 cannot carry (control characters from app logs), then escapes. */
export function xmlEscape(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex -- matching control characters is the point
      .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

/** Attribute values additionally keep their line breaks (parsers normalise raw newlines in attributes to spaces). */
export function xmlAttr(s: string): string {
  return xmlEscape(s).replace(/\r/g, '&#13;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

/** App output often carries ANSI colours and stray control characters; reports want the text. */
export function cleanLogLine(line: string): string {
  return (
    line
      // eslint-disable-next-line no-control-regex -- matching control characters is the point
      .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '')
      // eslint-disable-next-line no-control-regex -- matching control characters is the point
      .replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, '')
      // eslint-disable-next-line no-control-regex -- matching control characters is the point
      .replace(/[\x00-\x08\x0B-\x1F\x7F]/g, '\uFFFD')
  );
}
