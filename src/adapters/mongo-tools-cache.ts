/**
 * The MongoToolDownloader port on @actions/tool-cache: the pinned MongoDB Database Tools release
 * is downloaded once and reused from the tool cache (on a runner: RUNNER_TOOL_CACHE; in the CLI,
 * ~/.cache/dbdrill/tool-cache). Lives outside src/core because core never imports @actions/*.
 */
import * as tc from '@actions/tool-cache';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

import type { MongoToolDownloader } from '../core/engines/mongodb/mongo-tools.js';
import type { Logger } from '../core/logger.js';

export const MONGO_TOOLS_CACHE_NAME = 'mongodb-database-tools';

/** tool-cache needs RUNNER_TOOL_CACHE and RUNNER_TEMP; outside Actions they default under ~/.cache/dbdrill. */
export function ensureToolCacheEnv(
  env: NodeJS.ProcessEnv = process.env,
  base = join(homedir(), '.cache', 'dbdrill'),
): void {
  if (!env.RUNNER_TOOL_CACHE) {
    env.RUNNER_TOOL_CACHE = join(base, 'tool-cache');
    mkdirSync(env.RUNNER_TOOL_CACHE, { recursive: true, mode: 0o700 });
  }
  if (!env.RUNNER_TEMP) {
    env.RUNNER_TEMP = join(base, 'tmp');
    mkdirSync(env.RUNNER_TEMP, { recursive: true, mode: 0o700 });
  }
}

export function toolCacheMongoDownloader(logger: Logger): MongoToolDownloader {
  return {
    async ensure(url: string, version: string): Promise<string> {
      ensureToolCacheEnv();
      return outsideActionsToStderr(async () => {
        const cached = tc.find(MONGO_TOOLS_CACHE_NAME, version);
        if (cached) {
          logger.info(`MongoDB Database Tools ${version} from the tool cache: ${cached}`);
          return cached;
        }
        logger.info(`downloading ${url}`);
        const archive = await tc.downloadTool(url);
        const extracted = await tc.extractTar(archive, undefined, 'xz');
        const dir = await tc.cacheDir(extracted, MONGO_TOOLS_CACHE_NAME, version);
        logger.info(`MongoDB Database Tools ${version} cached in ${dir}`);
        return dir;
      });
    },
  };
}

/**
 * tool-cache speaks workflow commands (`::debug::`, `[command]tar ...`) on stdout, which the CLI
 * keeps for its --json object; outside Actions they go to stderr while the download runs.
 */
async function outsideActionsToStderr<T>(fn: () => Promise<T>): Promise<T> {
  if (process.env.GITHUB_ACTIONS === 'true') return fn();
  const original = process.stdout.write;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  try {
    return await fn();
  } finally {
    process.stdout.write = original;
  }
}
