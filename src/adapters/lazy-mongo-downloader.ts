import type { Logger } from '../core/logger.js';
import type { MongoToolDownloader } from '../core/engines/mongodb/mongo-tools.js';

/**
 * @actions/tool-cache (with its HTTP client) loads only when a MongoDB tools download is needed,
 * not at every start of the CLI or an action.
 */
export function lazyMongoDownloader(logger: Logger): MongoToolDownloader {
  return {
    async ensure(url: string, version: string, signal?: AbortSignal): Promise<string> {
      const { toolCacheMongoDownloader } = await import('./mongo-tools-cache.js');
      return toolCacheMongoDownloader(logger).ensure(url, version, signal);
    },
  };
}
