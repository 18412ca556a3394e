/**
 * The roles a restore needs, read from the dump itself so bare dumps work too: a role missing
 * from the scratch cluster fails the statement that names it (ALTER ... OWNER TO, GRANT,
 * CREATE POLICY ... TO, ALTER DEFAULT PRIVILEGES). Which statements pg_restore runs depends on
 * no-owner and no-acl, so the set does too: creating roles nothing will name would only widen
 * the target for no reason.
 */
import { connectPg, quoteIdent } from './connection.js';
import type { PgTocEntry } from './pgdump-reader.js';
import { isKeyword, nameOf, statementsOf, tokenizeSql, type SqlToken } from './sql-names.js';

export interface RolesNeededOptions {
  noOwner: boolean;
  noAcl: boolean;
  /** Owners the manifest recorded at backup (names the TOC may not carry, e.g. of a schema). */
  recordedOwners?: string[];
}

/** Role specifications that are not roles to create. */
const PSEUDO_ROLES = new Set(['public', 'current_user', 'session_user', 'current_role']);

export function rolesNeeded(toc: PgTocEntry[], o: RolesNeededOptions): string[] {
  const roles = new Set<string>();
  if (!o.noOwner) {
    for (const r of o.recordedOwners ?? []) roles.add(r);
    for (const e of toc) if (e.owner && e.desc !== 'ACL' && e.desc !== 'DEFAULT ACL') roles.add(e.owner);
  }
  for (const e of toc) {
    if (e.desc === 'POLICY') for (const r of policyRoles(e.defn)) roles.add(r);
    if (!o.noAcl && (e.desc === 'ACL' || e.desc === 'DEFAULT ACL')) {
      for (const r of aclRoles(e.defn)) roles.add(r);
      // ALTER DEFAULT PRIVILEGES FOR ROLE x: the TOC records x as the entry's owner
      if (e.desc === 'DEFAULT ACL' && e.owner) roles.add(e.owner);
    }
  }
  return [...roles].filter((r) => r && !r.startsWith('pg_')).sort();
}

/** `CREATE POLICY p ON t [AS ...] [FOR ...] TO a, b [USING ...] [WITH CHECK ...]`. */
export function policyRoles(defn: string): string[] {
  const out: string[] = [];
  for (const stmt of statementsOf(tokenizeSql(defn))) {
    if (!isKeyword(stmt[0], 'CREATE') || !isKeyword(stmt[1], 'POLICY')) continue;
    for (let i = 2; i < stmt.length; i++) {
      if (isKeyword(stmt[i], 'USING') || isKeyword(stmt[i], 'WITH')) break;
      if (isKeyword(stmt[i], 'TO')) {
        out.push(...roleList(stmt, i + 1));
        break;
      }
    }
  }
  return out;
}

/**
 * Grantees, revokees, grantors and `FOR ROLE` roles of GRANT/REVOKE and ALTER DEFAULT PRIVILEGES
 * statements, and the roles of SET SESSION AUTHORIZATION (pg_dump's way of naming a grantor).
 */
export function aclRoles(defn: string): string[] {
  const out: string[] = [];
  for (const stmt of statementsOf(tokenizeSql(defn))) {
    for (let i = 0; i < stmt.length; i++) {
      const t = stmt[i];
      if (t.kind !== 'word') continue;
      const w = t.text.toUpperCase();
      if (w === 'AUTHORIZATION' && isKeyword(stmt[i - 1], 'SESSION') && isKeyword(stmt[0], 'SET')) {
        out.push(...roleList(stmt, i + 1));
      } else if (w === 'ROLE' && isKeyword(stmt[i - 1], 'FOR') && isKeyword(stmt[0], 'ALTER')) {
        out.push(...roleList(stmt, i + 1));
      } else if (w === 'BY' && isKeyword(stmt[i - 1], 'GRANTED')) {
        out.push(...roleList(stmt, i + 1));
      } else if (
        (w === 'TO' && isGrantOrRevoke(stmt, i, 'GRANT')) ||
        (w === 'FROM' && isGrantOrRevoke(stmt, i, 'REVOKE'))
      ) {
        out.push(...roleList(stmt, i + 1));
      }
    }
  }
  return out;
}

/** TO/FROM of the grant itself, not of a column list or a function signature. */
function isGrantOrRevoke(stmt: SqlToken[], at: number, verb: 'GRANT' | 'REVOKE'): boolean {
  let depth = 0;
  let sawVerb = false;
  for (let i = 0; i < at; i++) {
    const t = stmt[i];
    if (t.kind === 'punct' && t.text === '(') depth++;
    if (t.kind === 'punct' && t.text === ')') depth--;
    if (isKeyword(t, verb)) sawVerb = true;
  }
  return sawVerb && depth === 0;
}

/** `a, "B", public` up to the first token that is not part of the list. */
function roleList(stmt: SqlToken[], start: number): string[] {
  const out: string[] = [];
  let i = start;
  while (i < stmt.length) {
    const t = stmt[i];
    if (t.kind === 'ident') out.push(t.text);
    else if (t.kind === 'word') {
      if (isKeyword(t, 'GROUP')) {
        i++;
        continue;
      }
      if (!PSEUDO_ROLES.has(t.text.toLowerCase())) out.push(nameOf(t));
    } else break;
    if (stmt[i + 1]?.kind === 'punct' && stmt[i + 1].text === ',') i += 2;
    else break;
  }
  return out;
}

/** Creates each role that does not exist yet (NOLOGIN, no password); returns the ones created. */
export async function createMissingRoles(targetUrl: string, roles: string[]): Promise<string[]> {
  if (!roles.length) return [];
  const client = await connectPg(targetUrl, 'target-url');
  const created: string[] = [];
  try {
    for (const role of roles) {
      const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      if (exists.rowCount) continue;
      await client.query(`CREATE ROLE ${quoteIdent(role)} NOLOGIN`);
      created.push(role);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  return created;
}
