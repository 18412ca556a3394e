/**
 * The drill's first phase: find the bundle, and fetch and verify it in one streaming pass that
 * also extracts the dumps and the secret store into the work directory. A bundle that fails
 * verification is never restored; the failure names the newest one that does verify.
 */
import { join } from 'node:path';

import type { Manifest } from '../bundle/manifest.js';
import {
  displayOf,
  locateBundle,
  newestThatVerifies,
  resolveNewest,
  type BundleLocation,
} from '../catalog/index.js';
import { CheckFailed, EnvironmentFault } from '../errors.js';
import type { UseCaseDeps } from '../deps.js';
import { ENGINES, type RegisteredEngine } from '../engines/registry.js';
import { inspectBundle, type VerifyResult } from '../inspection/index.js';
import type { DrillOptions } from '../options/index.js';
import type { Store } from '../stores/store.js';
import type { DrillRecorder } from './recorder.js';

export interface FetchedBundle {
  location: BundleLocation;
  verified: VerifyResult;
  /** When the backup ended: the RPO counts from here. */
  backupEnd?: Date;
}

/**
 * `store` is set when the bundle is chosen by name (the newest in it), undefined when `bundle`
 * names one. Resolving happens before the phase starts: "no bundle" fails without a phase.
 */
export async function fetchAndVerify(
  deps: UseCaseDeps,
  options: Pick<DrillOptions, 'bundle' | 'bundleKey' | 'name' | 'pgBinDir' | 'pgClient' | 'component'>,
  store: Store | undefined,
  recorder: DrillRecorder,
  workDir: string,
  onManifest?: (manifest: Manifest) => void,
): Promise<FetchedBundle> {
  const location: BundleLocation = store
    ? options.bundleKey
      ? { store, key: options.bundleKey, display: displayOf(store, options.bundleKey) }
      : await resolveNewest(store, options.name!)
    : locateBundle(deps, options.bundle!);
  recorder.report.bundle = location.display;
  const verified = await recorder.phase('fetch + verify', async () => {
    const r = await inspectBundle(deps, location, {
      deep: false,
      deepForBareDumps: true,
      pgBinDir: options.pgBinDir,
      pgClient: options.pgClient,
      extractTo: join(workDir, 'bundle'),
      onManifest,
    });
    for (const l of r.layers) {
      recorder.check({
        name: l.name,
        group: 'verify',
        ok: l.ok || !!l.skipped,
        skipped: l.skipped,
        detail: l.detail,
      });
      deps.logger.info(`[${l.skipped ? 'skip' : l.ok ? ' ok ' : 'FAIL'}] ${l.name}: ${l.detail}`);
    }
    // no verdict on the bundle: searching for an older one would only fill the disk again
    if (r.inconclusive)
      throw new EnvironmentFault(`the bundle ${location.display} could not be fetched: ${r.inconclusive}`);
    if (!r.ok) {
      const good = store
        ? await newestThatVerifies(deps, store, options.name!, {
            exceptKey: location.key,
            pgBinDir: options.pgBinDir,
            pgClient: options.pgClient,
          })
        : undefined;
      throw new CheckFailed(
        `the bundle ${location.display} failed verification (${r.problems.join('; ')})` +
          (good
            ? `; the newest bundle that verifies is ${good}: pass it as bundle to drill it`
            : store
              ? '; no older bundle of this name verifies either'
              : ''),
      );
    }
    recordProvenance(recorder, r, deps.engines ?? ENGINES, options.component);
    return r;
  });
  return { location, verified, backupEnd: backupEndOf(verified, location) };
}

/** The manifest knows; a bare dump file falls back to its upload time, then its own header. */
function backupEndOf(v: VerifyResult, location: BundleLocation): Date | undefined {
  if (v.manifest) return new Date(v.manifest.endedAt);
  if (location.object?.modifiedAt) return location.object.modifiedAt;
  return v.pgDump?.report.header.createdAt;
}

/**
 * The bundle's full hash and the sources it was taken from: what an auditor matches a drill to.
 * Each engine restores its first component (or the fleet member's `component`), so a joint
 * bundle names every database it brings back, not only the first one in the manifest.
 */
function recordProvenance(
  recorder: DrillRecorder,
  v: VerifyResult,
  engines: readonly RegisteredEngine[],
  component: string | undefined,
): void {
  const { report } = recorder;
  if (v.sha256) report.bundleSha256 = v.sha256;
  const components = v.manifest?.components ?? [];
  const sources = engines.flatMap((engine) => {
    const own = components.filter((c) => c.engine === engine.name);
    const restored = component === undefined ? own[0] : own.find((c) => c.id === component);
    return restored ? [engine.describeSource(restored)] : [];
  });
  if (!sources.length && v.pgDump) {
    const h = v.pgDump.report.header;
    sources.push({ engine: 'postgres', database: h.database, serverVersion: h.serverVersion });
  }
  report.source = sources[0];
  if (sources.length > 1) report.sources = sources;
}
