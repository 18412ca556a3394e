/**
 * The restored secret store in a drill, used twice: once it is extracted (mask its values, load
 * `.env` files for the app), and once the database is restored and migrated (the KEK pairing
 * check against the restored database, group `kek`): data without its key is not a recovery.
 */
import { join } from 'node:path';

import { loadSecretsEnv, registerSecretValues, secretFilesUnder } from '../encryption.js';
import { CheckFailed, messageOf } from '../errors.js';
import { checkKekPairing, resolveKekMember } from '../kek.js';
import type { Logger } from '../logger.js';
import type { ProcessRunner } from '../process.js';
import type { DrillCheck } from '../report/model.js';
import type { DrillOptions } from '../options/index.js';

export const KEK_CHECK_NAME = 'KEK fingerprint matches the database';

/**
 * Registers every restored secret value with the redactor (before the app or a migration can
 * print one) and, with secrets-env, returns the `.env` variables for the app's environment.
 */
export async function prepareDrillSecrets(
  logger: Logger,
  options: Pick<DrillOptions, 'secretsEnv'>,
  secretsDir: string | undefined,
  notes: string[],
): Promise<Record<string, string>> {
  if (secretsDir) await registerSecretValues(logger, await secretFilesUnder(secretsDir));
  if (!options.secretsEnv) return {};
  if (!secretsDir) {
    notes.push('secrets-env: the bundle holds no secret store, so no .env file was loaded');
    return {};
  }
  const loaded = await loadSecretsEnv(logger, secretsDir);
  notes.push(...loaded.notes);
  for (const n of loaded.notes) logger.info(n);
  return loaded.env;
}

/**
 * Compares the restored database's KEK fingerprint with the restored KEK file. Always records a
 * `kek` check; throws CheckFailed when they do not pair or the check could not run (could not
 * check is never a pass).
 */
export async function runDrillKekCheck(
  deps: { runner: ProcessRunner; signal?: AbortSignal; label?: (input: string) => string; logger: Logger },
  options: DrillOptions,
  ctx: {
    targetUrl: string;
    workDir: string;
    extracted: Record<string, string> | undefined;
    env: NodeJS.ProcessEnv;
  },
  check: (c: DrillCheck) => void,
): Promise<void> {
  const label = deps.label ?? ((n: string) => n);
  const members = Object.keys(ctx.extracted ?? {}).filter((m) => m.startsWith('secrets/'));
  try {
    if (members.length === 0) {
      throw new CheckFailed(
        'the bundle holds no secret store, so the KEK the database expects cannot be paired; back up the KEK with secret-files',
      );
    }
    const member = resolveKekMember(members, options.kekFile, label('kek-file'));
    const r = await checkKekPairing(deps, {
      ...options,
      databaseUrl: ctx.targetUrl,
      urlInput: 'target-url',
      kekPath: ctx.extracted![`secrets/${member}`],
      kekMember: member,
      secretsDir: join(ctx.workDir, 'bundle', 'secrets'),
      env: ctx.env,
    });
    check({ name: KEK_CHECK_NAME, group: 'kek', ok: r.ok, detail: r.detail });
    deps.logger.info(`KEK check: ${r.detail}`);
    if (!r.ok) throw new CheckFailed(r.detail);
  } catch (err) {
    if (!(err instanceof CheckFailed && /^KEK fingerprint mismatch/.test(err.message))) {
      check({ name: KEK_CHECK_NAME, group: 'kek', ok: false, detail: `could not check: ${messageOf(err)}` });
    }
    throw err;
  }
}
