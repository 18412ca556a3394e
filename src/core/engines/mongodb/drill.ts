/**
 * The MongoDB half of a restore drill: which archive, where to (the mongodb:// target-url),
 * refusing the source, mongorestore, and the counts afterwards. Mirrors
 * `engines/postgres/drill.ts`; the drill runs both halves of a joint bundle side by side.
 */
import { describeDrift } from '../../checks/drift.js';
import type { MongoComponent } from '../../bundle/manifest.js';
import { CheckFailed, ConfigError } from '../../errors.js';
import type { DrillCount, DrillTarget } from '../../report/model.js';
import type { DrillLedger, EngineDrill, EngineDrillContext, VerifiedBundle } from '../engine.js';
import { describeMongo, parseMongoUrl, sameMongoSource } from './connection.js';
import {
  compareMongoCounts,
  compareMongoWithProduction,
  connectMongo,
  expectedCollections,
} from './counts.js';
import { effectiveRenames, restoreMongo, type NsRename } from './restore.js';

export interface MongoDrillPlan {
  component?: MongoComponent;
  member: string;
  archivePath: string;
  compressed: boolean;
  collections: { ns: string; type?: string; documents: number }[];
  sourceDatabase: string | null;
  targetUrl: string;
  display: string;
}

export interface MongoDrillOptions {
  /** Drill only this component of the bundle (a fleet member); absent: the bundle's MongoDB archive. */
  component?: string;
  mongoTargetUrl?: string;
  nsRenames?: NsRename[];
  jobs?: number;
  mongoBinDir?: string;
  dockerContainer?: string;
  mongoCompareUrl?: string;
  countTolerance: { percent?: number; rows?: number };
}

/** The MongoDB half of a drill of `bundle` (`Engine.planDrill`), or undefined when it holds no archive. */
export function planMongoDrill(
  bundle: VerifiedBundle,
  options: MongoDrillOptions,
  context: EngineDrillContext,
): EngineDrill | undefined {
  const plan = mongoDrillPlan(bundle, options, context.deps.label);
  if (!plan) return undefined;
  if (!bundle.manifest) {
    context.ledger.report.notes.push(
      'bare mongodump archive (no dbdrill manifest): document counts are compared with the archive itself',
    );
  }
  return new MongoDrill(plan, options, context);
}

/** The target is the user's mongodb:// URL: nothing to create, so nothing to tear down. */
class MongoDrill implements EngineDrill {
  readonly engine = 'mongodb';
  private renames: NsRename[] = [];

  constructor(
    private readonly plan: MongoDrillPlan,
    private readonly options: MongoDrillOptions,
    private readonly context: EngineDrillContext,
  ) {}

  prepareTarget(announce: (target: DrillTarget) => void): Promise<void> {
    assertNotMongoSource(this.plan, this.options.nsRenames ?? [], this.context.deps.label);
    announce({ kind: 'url', display: this.plan.display });
    return Promise.resolve();
  }

  targetUrl(): string {
    return this.plan.targetUrl;
  }

  appEnv(): NodeJS.ProcessEnv {
    return { MONGODB_URL: this.plan.targetUrl };
  }

  async restore(): Promise<void> {
    const { deps, ledger, workDir } = this.context;
    this.renames = await restoreMongoPlan(deps, this.plan, this.options, workDir, ledger);
  }

  checkRestored(): Promise<void> {
    const { deps, ledger } = this.context;
    return checkMongoCounts(this.plan, this.renames, this.options, ledger, deps.label);
  }

  teardown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Undefined when the bundle holds no MongoDB archive; a ConfigError when it does and no target says where. */
function mongoDrillPlan(
  v: Pick<VerifiedBundle, 'manifest' | 'mongo' | 'extracted'>,
  o: MongoDrillOptions,
  label: (n: string) => string = (n) => n,
): MongoDrillPlan | undefined {
  const component = v.manifest?.components.find((c): c is MongoComponent => c.engine === 'mongodb') as
    MongoComponent | undefined;
  if (o.component && component?.id !== o.component) return undefined;
  const summary = component
    ? v.mongo?.find((m) => m.member === component.member)
    : v.manifest
      ? undefined
      : v.mongo?.[0];
  if (!component && !summary) return undefined;
  const member = component?.member ?? summary!.member;
  const archivePath = v.extracted?.[member];
  if (!archivePath) throw new CheckFailed(`the MongoDB archive ${member} was not extracted from the bundle`);
  if (!o.mongoTargetUrl) {
    throw new ConfigError(
      `this bundle holds a MongoDB archive (${member}); add a mongodb:// ${label('target-url')} (a scratch database, e.g. the workflow's mongo service: mongodb://root:pw@localhost:27017/restored?authSource=admin). provision applies to PostgreSQL only`,
    );
  }
  const collections = component?.collections ?? summary!.namespaces;
  const dbs = [
    ...new Set(
      collections
        .map((c) => c.ns.split('.')[0])
        .filter((d) => d && !['admin', 'config', 'local'].includes(d)),
    ),
  ];
  const target = parseMongoUrl(o.mongoTargetUrl, label('target-url'));
  return {
    component,
    member,
    archivePath,
    compressed: summary?.compressed ?? component?.compressed ?? member.endsWith('.gz'),
    collections,
    sourceDatabase: component?.database ?? (dbs.length === 1 ? dbs[0] : null),
    targetUrl: o.mongoTargetUrl,
    display: describeMongo(target),
  };
}

/**
 * mongodump records no system identifier, so "the same database" means: an overlapping host:port
 * and the same database name the restore would write into (after renames). A replica-set name
 * recorded at backup that differs from the target's makes them different deployments.
 */
function assertNotMongoSource(
  plan: MongoDrillPlan,
  userRenames: NsRename[],
  label: (n: string) => string = (n) => n,
): void {
  const c = plan.component;
  if (!c?.hosts) return;
  const target = parseMongoUrl(plan.targetUrl, label('target-url'));
  const targetSet = target.query.get('replicaSet');
  if (c.replicaSet && targetSet && c.replicaSet !== targetSet) return;
  if (!sameMongoSource({ hosts: c.hosts, database: null }, { hosts: target.hosts, database: null })) return;
  const renames = effectiveRenames(userRenames, plan.sourceDatabase, target);
  const dbOf = (ns: string) => ns.split('.')[0];
  const sourceDbs = new Set(expectedCollections(plan.collections, []).map((e) => dbOf(e.ns)));
  if (c.database) sourceDbs.add(c.database);
  const targetDbs = new Set(expectedCollections(plan.collections, renames).map((e) => dbOf(e.target)));
  if (targetDbs.size === 0) targetDbs.add(renames.length ? '' : (target.database ?? c.database ?? ''));
  const clash = [...targetDbs].find((d) => sourceDbs.has(d));
  if (clash !== undefined) {
    throw new ConfigError(
      `refusing to restore into the backup's own source: the mongodb:// ${label('target-url')} would restore into database "${clash}" on ${c.host}, which was backed up (mongorestore --drop would replace it); point it at another database (e.g. .../restored) or another server`,
    );
  }
}

async function restoreMongoPlan(
  deps: EngineDrillContext['deps'],
  plan: MongoDrillPlan,
  o: MongoDrillOptions,
  workDir: string,
  ledger: DrillLedger,
): Promise<NsRename[]> {
  const out = await restoreMongo(deps, {
    archivePath: plan.archivePath,
    compressed: plan.compressed,
    targetUrl: plan.targetUrl,
    sourceDatabase: plan.sourceDatabase,
    renames: o.nsRenames ?? [],
    jobs: o.jobs,
    mongoBinDir: o.mongoBinDir,
    dockerContainer: o.dockerContainer,
    label: deps.label,
    workDir,
    signal: deps.signal,
  });
  if (out.renames.length)
    ledger.report.notes.push(
      `mongorestore renames: ${out.renames.map((r) => `${r.from} -> ${r.to}`).join(', ')}`,
    );
  ledger.check({
    name: 'mongorestore',
    group: 'restore',
    ok: !out.error,
    detail: out.error ?? `${out.tool}: ${out.restored ?? '?'} document(s) restored into ${plan.display}`,
  });
  if (out.error) throw new CheckFailed(out.error);
  return out.renames;
}

/** Counts through the driver against the archive's, then (compare-url) against production's. */
async function checkMongoCounts(
  plan: MongoDrillPlan,
  renames: NsRename[],
  o: MongoDrillOptions,
  ledger: DrillLedger,
  label: (n: string) => string = (n) => n,
): Promise<void> {
  const counts = ledger.report.counts;
  const expected = expectedCollections(plan.collections, renames);
  const client = await connectMongo(plan.targetUrl, label('target-url'));
  let restored: DrillCount[];
  try {
    restored = await compareMongoCounts(client, expected);
  } finally {
    await client.close().catch(() => undefined);
  }
  counts.push(...restored);
  const wrong = restored.filter((c) => !c.ok);
  ledger.check({
    name: 'document counts equal the archive',
    group: 'data',
    ok: wrong.length === 0,
    detail: wrong.length
      ? wrong
          .slice(0, 10)
          .map((c) => `${c.name}: expected ${c.expected}, got ${c.actual ?? 'no collection'}`)
          .join('; ')
      : `${restored.length} collection(s), ${restored.reduce((n, c) => n + (c.actual ?? 0), 0)} documents, all exact`,
  });
  if (!o.mongoCompareUrl) return;
  const prod = await connectMongo(o.mongoCompareUrl, label('compare-url'));
  try {
    const drift = await compareMongoWithProduction(
      prod,
      restored.map((count, i) => ({ source: expected[i].ns, count })),
      o.countTolerance,
    );
    counts.push(...drift);
    ledger.check({
      name: 'document counts near production (compare-url)',
      group: 'data',
      ...describeDrift(drift, o.countTolerance, { things: 'collection(s)', units: 'documents' }),
    });
  } finally {
    await prod.close().catch(() => undefined);
  }
}
