/**
 * Reading names back out of the SQL pg_dump writes into TOC definitions. pg_dump quotes every
 * identifier that needs it, so a small tokenizer (quoted identifiers, words, punctuation) is
 * enough; string literals are skipped so a policy's USING text cannot be mistaken for a name.
 */

export interface SqlToken {
  /** The identifier unquoted, or the word as written, or the punctuation character. */
  text: string;
  kind: 'ident' | 'word' | 'punct' | 'literal';
}

export function tokenizeSql(sql: string): SqlToken[] {
  const out: SqlToken[] = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '"') {
      let j = i + 1;
      let text = '';
      while (j < sql.length) {
        if (sql[j] === '"' && sql[j + 1] === '"') {
          text += '"';
          j += 2;
        } else if (sql[j] === '"') break;
        else text += sql[j++];
      }
      out.push({ text, kind: 'ident' });
      i = j + 1;
    } else if (ch === "'") {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === "'" && sql[j + 1] !== "'")) j += sql[j] === "'" ? 2 : 1;
      out.push({ text: sql.slice(i, j + 1), kind: 'literal' });
      i = j + 1;
    } else if (/[A-Za-z0-9_$]/.test(ch)) {
      let j = i;
      while (j < sql.length && /[A-Za-z0-9_$]/.test(sql[j])) j++;
      out.push({ text: sql.slice(i, j), kind: 'word' });
      i = j;
    } else {
      out.push({ text: ch, kind: 'punct' });
      i++;
    }
  }
  return out;
}

/** A name as PostgreSQL folds it: quoted as written, unquoted in lower case. */
export function nameOf(t: SqlToken): string {
  return t.kind === 'ident' ? t.text : t.text.toLowerCase();
}

export function isKeyword(t: SqlToken | undefined, word: string): boolean {
  return !!t && t.kind === 'word' && t.text.toUpperCase() === word;
}

/** `schema.table` (or a bare `table`) starting at tokens[i]; returns the name and the next index. */
export function readQualifiedName(
  tokens: SqlToken[],
  i: number,
): { schema?: string; name: string; next: number } | undefined {
  const first = tokens[i];
  if (!first || (first.kind !== 'ident' && first.kind !== 'word')) return undefined;
  if (tokens[i + 1]?.text === '.' && tokens[i + 1].kind === 'punct') {
    const second = tokens[i + 2];
    if (second && (second.kind === 'ident' || second.kind === 'word')) {
      return { schema: nameOf(first), name: nameOf(second), next: i + 3 };
    }
  }
  return { name: nameOf(first), next: i + 1 };
}

/** Splits a TOC definition into its statements (top-level semicolons, literals respected). */
export function statementsOf(tokens: SqlToken[]): SqlToken[][] {
  const out: SqlToken[][] = [];
  let current: SqlToken[] = [];
  for (const t of tokens) {
    if (t.kind === 'punct' && t.text === ';') {
      if (current.length) out.push(current);
      current = [];
    } else current.push(t);
  }
  if (current.length) out.push(current);
  return out;
}
