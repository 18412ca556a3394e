/**
 * The verify use case: find the bundle (the catalog), inspect it layer by layer (inspection) with
 * the run's max-age, log each layer, record the outcome beside the bundle, and fail with
 * CheckFailed (carrying the result) when any layer failed.
 */
import { locateBundle, recordVerifyOutcome, resolveNewest } from './catalog/index.js';
import type { UseCaseDeps } from './deps.js';
import { decryptHook } from './encryption.js';
import { CheckFailed } from './errors.js';
import {
  inspectBundle,
  inspectDumpDirectory,
  isBareDumpDirectory,
  type VerifyResult,
} from './inspection/index.js';
import type { VerifyOptions } from './options/index.js';

export type { VerifyLayer, VerifyResult } from './inspection/index.js';

/** The shared use-case deps under verify's old name. */
export type VerifyDeps = UseCaseDeps;

/** verify for the CLI and the action: throws CheckFailed (with the result) when a layer fails. */
export async function verify(deps: UseCaseDeps, options: VerifyOptions): Promise<VerifyResult> {
  if (!deps.decrypt) deps = { ...deps, decrypt: await decryptHook(deps.logger, options, deps.label) };
  const location = options.bundle
    ? locateBundle(deps, options.bundle)
    : await resolveNewest(deps.openStore(options.store!), options.name!);
  deps.logger.info(`Verifying ${location.display}`);
  const inspect = {
    deep: options.deep,
    maxAgeSeconds: options.maxAgeSeconds,
    pgBinDir: options.pgBinDir,
    pgClient: options.pgClient,
  };
  // A bare pg_dump -Fd directory on disk is in no store: read in place, recorded nowhere.
  const bareDir = await isBareDumpDirectory(options.bundle, deps.engines);
  const result = bareDir
    ? await inspectDumpDirectory(deps, options.bundle!, inspect)
    : await inspectBundle(deps, location, inspect);
  for (const layer of result.layers) {
    const mark = layer.skipped ? 'skip' : layer.ok ? ' ok ' : 'FAIL';
    deps.logger.info(`[${mark}] ${layer.name}: ${layer.detail}`);
  }
  if (!bareDir) await recordVerifyOutcome(deps, location, result, options.deep);
  if (!result.ok) {
    throw new CheckFailed(
      result.inconclusive
        ? `could not verify ${location.display}: ${result.inconclusive}`
        : `verification failed for ${location.display}: ${result.problems.join('; ')}`,
      result,
    );
  }
  return result;
}
