/**
 * The store settings both adapters hand to runtimeDeps: the parsed S3/artifact options plus the
 * @actions/artifact-backed service for artifact:// stores (which core cannot import).
 */
import { OptionReader, type Command, type RawOptions } from '../core/options.js';
import { parseStoreSettings } from '../core/store-options.js';
import type { OpenStoreDeps } from '../core/stores/open-store.js';
import { actionsArtifactService } from './actions-artifact.js';

export function storeSettingsFrom(
  raw: RawOptions,
  command: Command,
  label: (input: string) => string,
  env: NodeJS.ProcessEnv = process.env,
): () => Omit<OpenStoreDeps, 'logger'> {
  return () => {
    const parsed = parseStoreSettings(new OptionReader(raw, label), command);
    return {
      env,
      s3: parsed.s3,
      artifact: { ...parsed.artifact, service: () => actionsArtifactService(env) },
    };
  };
}
