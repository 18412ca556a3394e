/**
 * A deliberately small JSON-path subset for health-check expectations: `$`, `.key`, `[n]`
 * (negative counts from the end), `['key']` / `["key"]`, and `[*]` / `.*`. Health endpoints
 * return small, known documents; a full JSONPath engine (filters, recursive descent) would be
 * a dependency and an attack surface for no gain here.
 */

export type JsonPathSegment =
  { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'wildcard' };

/** Thrown for a malformed path; callers wrap it in a ConfigError that names their input. */
export class JsonPathError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`JSON path "${path}" ${reason}; supported: $, .key, [0], [-1], ['key'], [*]`);
    this.name = 'JsonPathError';
  }
}

const IDENT_RE = /^[A-Za-z_$][A-Za-z0-9_$-]*/;

export function parseJsonPath(path: string): JsonPathSegment[] {
  const p = path.trim();
  if (!p.startsWith('$')) throw new JsonPathError(path, 'must start with "$"');
  const segments: JsonPathSegment[] = [];
  let i = 1;
  while (i < p.length) {
    const ch = p[i];
    if (ch === '.') {
      if (p[i + 1] === '.')
        throw new JsonPathError(path, 'uses recursive descent "..", which is not supported');
      if (p[i + 1] === '*') {
        segments.push({ kind: 'wildcard' });
        i += 2;
        continue;
      }
      const m = IDENT_RE.exec(p.slice(i + 1));
      if (!m) throw new JsonPathError(path, `has no key name after "." at position ${i}`);
      segments.push({ kind: 'key', key: m[0] });
      i += 1 + m[0].length;
    } else if (ch === '[') {
      const rest = p.slice(i + 1);
      const quote = rest[0];
      if (quote === "'" || quote === '"') {
        let key = '';
        let j = 1;
        for (; j < rest.length && rest[j] !== quote; j++) {
          if (rest[j] === '\\' && j + 1 < rest.length) j++;
          key += rest[j];
        }
        if (j >= rest.length)
          throw new JsonPathError(path, `has an unterminated quoted key at position ${i}`);
        if (rest[j + 1] !== ']')
          throw new JsonPathError(path, `is missing "]" after the quoted key at position ${i}`);
        segments.push({ kind: 'key', key });
        i += 1 + j + 2;
        continue;
      }
      const close = rest.indexOf(']');
      if (close < 0) throw new JsonPathError(path, `is missing "]" at position ${i}`);
      const inner = rest.slice(0, close).trim();
      if (inner === '*') segments.push({ kind: 'wildcard' });
      else if (/^-?\d+$/.test(inner)) segments.push({ kind: 'index', index: Number(inner) });
      else throw new JsonPathError(path, `has an unsupported selector "[${inner}]"`);
      i += 1 + close + 1;
    } else {
      throw new JsonPathError(path, `has an unexpected "${ch}" at position ${i}`);
    }
  }
  return segments;
}

/** Every value the path selects (several only through a wildcard); empty when nothing matches. */
export function evaluateJsonPath(document: unknown, path: string | JsonPathSegment[]): unknown[] {
  const segments = typeof path === 'string' ? parseJsonPath(path) : path;
  let current: unknown[] = [document];
  for (const seg of segments) {
    const next: unknown[] = [];
    for (const value of current) {
      if (seg.kind === 'wildcard') {
        if (Array.isArray(value)) next.push(...value);
        else if (isObject(value)) next.push(...Object.values(value));
      } else if (seg.kind === 'index') {
        if (Array.isArray(value)) {
          const idx = seg.index < 0 ? value.length + seg.index : seg.index;
          if (idx >= 0 && idx < value.length) next.push(value[idx]);
        }
      } else if (isObject(value) && Object.prototype.hasOwnProperty.call(value, seg.key)) {
        next.push(value[seg.key]);
      }
    }
    current = next;
  }
  return current;
}

/** Structural equality for JSON values, so `equals: {a: 1}` in YAML matches the response's object. */
export function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEquals(v, b[i]))
    );
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEquals(a[k], b[k]))
    );
  }
  return false;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
