import type { Manifest } from '../bundle/manifest.js';
import type { UseCaseDeps } from '../deps.js';
import type { InspectionFindings } from '../engines/engine.js';
import type { MongoArchiveSummary } from '../engines/mongodb/inspect.js';
import type { PgDumpSummary } from '../engines/postgres/inspect.js';
import type { Store, StoredObject } from '../stores/store.js';
import type { PgClientChoice } from '../options/tool-options.js';
import type { VerifyLayer } from '../verify-layer.js';

export type { PgDumpSummary, VerifyLayer };

/**
 * Where a bundle is: its store and key. `display` is what messages show (the path or URI the user
 * gave, or the store URI plus key). Inspection fills `object` for a bare dump, whose modification
 * time is then the best guess of when the backup ended.
 */
export interface BundleLocation {
  store: Store;
  key: string;
  display: string;
  object?: StoredObject;
}

export interface InspectOptions {
  deep: boolean;
  maxAgeSeconds?: number;
  pgBinDir?: string;
  pgClient?: PgClientChoice;
  /** Write the dump and secret members here while verifying (the drill needs them). */
  extractTo?: string;
  /** Inflate bare pg_dump files even when not deep: without a manifest, the dump's own rows are the only counts. */
  deepForBareDumps?: boolean;
  /**
   * Called once with a valid manifest that is the bundle's first member, before the rest is read:
   * the drill starts its scratch target meanwhile. Not called for a bundle without one.
   */
  onManifest?: (manifest: Manifest) => void;
  /**
   * The stored object's local path when its bytes are the tar itself (a file store, not
   * encrypted): deep reads data files from it by offset, several at once. Set by inspectBundle.
   */
  localFile?: string;
}

/** The ports inspection uses; any use case's deps fit. */
export type InspectDeps = Pick<
  UseCaseDeps,
  'runner' | 'logger' | 'clock' | 'searchRoots' | 'signal' | 'decrypt' | 'engines' | 'pgClientPorts'
>;

export interface VerifyResult {
  ok: boolean;
  bundle: string;
  key?: string;
  /**
   * `bundle`, `unknown`, or a dump an engine read without a bundle around it: `bare-pg-dump`
   * (a custom-format file, a -Fd tarball or directory), `bare-mongo-archive`.
   */
  kind: InspectionFindings['kind'];
  ageSeconds: number | null;
  problems: string[];
  layers: VerifyLayer[];
  manifest?: Manifest;
  pgDump?: PgDumpSummary;
  /** Each PostgreSQL component's dump summary, by component id (a bundle may hold several). */
  pgDumps?: Record<string, PgDumpSummary>;
  /** One per MongoDB archive read (bundle members or a bare archive). */
  mongo?: MongoArchiveSummary[];
  encrypted: boolean;
  /** The full sha256 of the stored object as read, when it was read to the end. */
  sha256?: string;
  /** Files written when `extractTo` was given: member path -> local path. */
  extracted?: Record<string, string>;
  /**
   * Set when a fault on this runner (a member could not be written to the work dir) stopped the
   * inspection: the contents were not judged, `ok` is false, and this says why. Never a finding
   * about the bundle.
   */
  inconclusive?: string;
  /** The store has no such object: there is nothing to keep a verification record beside. */
  objectMissing?: boolean;
}
