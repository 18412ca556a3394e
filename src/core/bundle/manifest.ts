/**
 * The recovery-point manifest: the first member of every bundle. It records everything a later
 * verify or drill must compare against (sizes, hashes, exact row counts taken in the dump's own
 * snapshot) and nothing secret (secret files appear by name, size and hash only).
 */
export const MANIFEST_MEMBER = 'manifest.json';
/** The last member: sha256sum lines for every other member, hashed while the bundle streams. */
export const CHECKSUMS_MEMBER = 'SHA256SUMS';
export const MANIFEST_FORMAT = 'dbdrill-bundle';
/** The newest manifest format this dbdrill reads and writes. */
export const MANIFEST_FORMAT_VERSION = 2;

/**
 * Version 2 adds directory-format PostgreSQL dumps (a component whose member is a folder of
 * files). A bundle without one is still written as version 1, so older dbdrill releases keep
 * reading it; one with a folder says "upgrade" to them instead of "member missing".
 */
export function manifestFormatVersionFor(components: Component[]): number {
  return components.some((c) => c.engine === 'postgres' && c.format === 'directory') ? 2 : 1;
}

/** The members of a component: its one file, or every file under its folder (directory dumps). */
export function isComponentMember(component: Component, path: string): boolean {
  return component.engine === 'postgres' && component.format === 'directory'
    ? path.startsWith(component.member + '/')
    : path === component.member;
}

export interface MemberRecord {
  path: string;
  sizeBytes: number;
  /** null when the hash is in the trailing SHA256SUMS member (dumps are hashed while they stream). */
  sha256: string | null;
  role: 'dump' | 'secret';
  /** For dumps: which component it belongs to. */
  component?: string;
}

export interface TableCount {
  schema: string;
  name: string;
  /** 'table' rows are compared exactly; 'partitioned' and 'matview' counts are informative. */
  kind: 'table' | 'partitioned' | 'matview';
  rows: number | null;
  /** Why rows is null for a table (e.g. unlogged on a standby: pg_dump dumps no data for it). */
  reason?: string;
  /** pg_dump writes no data for it (an unlogged table on a standby): no TABLE DATA entry is expected. */
  noData?: boolean;
}

/**
 * The source database's encoding and locale, recreated at provision and compared with a given
 * target. `locale` is the ICU or builtin locale (absent for libc).
 */
export interface DatabaseLocale {
  encoding: string;
  collate: string;
  ctype: string;
  provider: 'libc' | 'icu' | 'builtin';
  locale?: string;
  icuRules?: string;
  /** Only the encoding is known (a bare dump whose TOC has no DATABASE entry). */
  partial?: boolean;
}

/** A sequence whose next value its column already holds (the next insert would collide). */
export interface SequenceBehind {
  /** Schema and name of the sequence, never joined into one string to be split again. */
  schema: string;
  name: string;
  /** Table and column it feeds. */
  tableSchema: string;
  table: string;
  column: string;
  /** The sequence's last_value and is_called; bigints as text. */
  lastValue: string;
  isCalled: boolean;
  increment: string;
  /** The column's max (ascending sequence) or min (descending), as text. */
  columnEdge: string;
}

export interface PostgresComponent {
  id: string;
  engine: 'postgres';
  /** `postgres.dump` (custom format), or the folder `postgres.dir` holding a directory dump's files. */
  member: string;
  /** Absent in bundles written before the directory format: custom. */
  format?: 'custom' | 'directory';
  /** pg_dump's compression as chosen, e.g. `zstd:1`, `gzip:1`, `none`. */
  compression?: string;
  /** pg_dump --jobs (1 for the custom format). */
  jobs?: number;
  database: string;
  host: string;
  port: number;
  serverVersion: string;
  serverVersionNum: number;
  systemIdentifier: string | null;
  tool: {
    name: 'pg_dump';
    version: string;
    path: string;
    options: string[];
    /**
     * local: an installed pg_dump (path); docker: inside docker-container (docker exec); image:
     * `docker run` of pg-client-image; apt: postgresql-client-<major> that pg-client installed.
     */
    via: 'local' | 'docker' | 'image' | 'apt';
    /** The image pg_dump ran from (via image). */
    image?: string;
  };
  snapshot: string;
  startedAt: string;
  endedAt: string;
  tables: TableCount[];
  roles: string[];
  /** Absent in bundles written before dbdrill recorded it (the drill then reads the dump's TOC). */
  locale?: DatabaseLocale;
  /** The source was a hot standby (pg_is_in_recovery()): unlogged tables have no data in the dump. */
  standby?: boolean;
  /**
   * Sequences already behind their column in the source at backup time (an application bug, not
   * a restore fault); absent in bundles made before this was recorded.
   */
  sequencesBehind?: SequenceBehind[];
}

export interface SecretsRecord {
  /** sha256 over the sorted (path, sha256) pairs: identifies the secret set without revealing it. */
  fingerprint: string;
  files: { path: string; sizeBytes: number }[];
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  formatVersion: number;
  dbdrillVersion: string;
  name: string;
  startedAt: string;
  endedAt: string;
  components: Component[];
  members: MemberRecord[];
  secrets: SecretsRecord | null;
  encryption: { kind: 'age'; recipients: number; passphrase: boolean } | null;
  /** Present when the bundle holds more than one database dump. */
  skew?: SkewRecord;
  /** The trailing member holding the hashes the members list as null (always SHA256SUMS). */
  checksums?: typeof CHECKSUMS_MEMBER;
}

export interface MongoComponent {
  id: string;
  engine: 'mongodb';
  member: string;
  /** The database in the URL; null when the whole deployment was dumped. */
  database: string | null;
  /** host:port[,host:port...] as given in the URL (the drill refuses to restore onto it). */
  host: string;
  hosts?: { host: string; port: number }[];
  replicaSet?: string;
  /** From the archive header. */
  serverVersion?: string;
  tool: { name: 'mongodump'; version: string; path: string; options: string[]; via: 'local' | 'docker' };
  /** Whether the archive member is gzipped (mongodump --gzip). */
  compressed?: boolean;
  startedAt: string;
  endedAt: string;
  /** Exact, read back from the archive itself (views and empty collections have 0). */
  collections: { ns: string; type?: string; documents: number }[];
}

/**
 * How far apart the component dumps are in time: the span from the earliest start to the latest
 * end. Data written in that window may be in one dump and not the other.
 */
export interface SkewRecord {
  seconds: number;
  from: string;
  to: string;
  components: { id: string; startedAt: string; endedAt: string }[];
}

export type Component = PostgresComponent | MongoComponent;

const SHA256_RE = /^[0-9a-f]{64}$/;
const SAFE_MEMBER_RE = /^(?!\/)(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9._@+=, -][A-Za-z0-9._@+=,/ -]*$/;

/** Member paths that may be extracted without escaping the work directory. */
export function isSafeMemberPath(path: string): boolean {
  return SAFE_MEMBER_RE.test(path) && !path.includes('//') && path.length <= 255;
}

/** Validates a parsed manifest; returns the problems (empty when valid). */
export function validateManifest(value: unknown): string[] {
  const problems: string[] = [];
  if (!value || typeof value !== 'object') return ['manifest is not a JSON object'];
  const m = value as Partial<Manifest>;
  if (m.format !== MANIFEST_FORMAT)
    problems.push(`format is "${String(m.format)}", expected "${MANIFEST_FORMAT}"`);
  if (typeof m.formatVersion !== 'number') problems.push('formatVersion is missing');
  else if (m.formatVersion > MANIFEST_FORMAT_VERSION) {
    problems.push(
      `formatVersion ${m.formatVersion} is newer than this dbdrill understands (${MANIFEST_FORMAT_VERSION}); upgrade dbdrill`,
    );
  }
  for (const key of ['name', 'startedAt', 'endedAt', 'dbdrillVersion'] as const) {
    if (typeof m[key] !== 'string') problems.push(`${key} is missing`);
  }
  if (typeof m.endedAt === 'string' && Number.isNaN(Date.parse(m.endedAt)))
    problems.push('endedAt is not a date');
  if (!Array.isArray(m.members) || m.members.length === 0) problems.push('members is missing or empty');
  else {
    for (const member of m.members) {
      if (!member || typeof member.path !== 'string' || !isSafeMemberPath(member.path)) {
        problems.push(`member path ${JSON.stringify(member?.path)} is unsafe or missing`);
      }
      if (typeof member?.sizeBytes !== 'number' || member.sizeBytes < 0)
        problems.push(`member ${member?.path}: bad sizeBytes`);
      const hashInSums = member?.sha256 === null && m.checksums === CHECKSUMS_MEMBER;
      if (!hashInSums && (typeof member?.sha256 !== 'string' || !SHA256_RE.test(member.sha256)))
        problems.push(`member ${member?.path}: bad sha256`);
    }
  }
  if (!Array.isArray(m.components) || m.components.length === 0)
    problems.push('components is missing or empty');
  else {
    for (const c of m.components) {
      const engine = (c as { engine?: unknown })?.engine;
      if (engine !== 'postgres' && engine !== 'mongodb') problems.push(`component ${c?.id}: unknown engine`);
      else if (!m.members?.some((x) => isComponentMember(c, x.path)))
        problems.push(`component ${c.id}: member ${c.member} not listed`);
    }
  }
  return problems;
}

/** A short, non-secret summary (for store metadata, `list` and logs). */
export function manifestSummary(m: Manifest): Record<string, string> {
  const pg = m.components.find((c): c is PostgresComponent => c.engine === 'postgres');
  const rows = pg ? pg.tables.filter((t) => t.kind === 'table').reduce((n, t) => n + (t.rows ?? 0), 0) : 0;
  return {
    'dbdrill-format-version': String(m.formatVersion),
    'dbdrill-name': m.name,
    'dbdrill-ended-at': m.endedAt,
    'dbdrill-engines': m.components.map((c) => c.engine).join(','),
    'dbdrill-tables': String(pg?.tables.length ?? 0),
    'dbdrill-rows': String(rows),
    'dbdrill-documents': String(
      m.components.reduce(
        (n, c) => n + (c.engine === 'mongodb' ? c.collections.reduce((k, x) => k + x.documents, 0) : 0),
        0,
      ),
    ),
    'dbdrill-encrypted': String(!!m.encryption),
  };
}
