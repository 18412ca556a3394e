/**
 * A real S3 protocol server on 127.0.0.1 for the store tests.
 *
 * Why s3rver: it is a pure-JavaScript S3 protocol server (REST + SigV4 key checks, multipart
 * uploads, ListObjectsV2 paging) installable from npm, and there is no docker here for MinIO.
 * Known gaps we rely on knowing: it does not implement AbortMultipartUpload (405) nor
 * ListMultipartUploads, ignores flexible checksums, and checks the access key id but not the
 * secret of SigV4 signatures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverInstance;

const require = createRequire(import.meta.url);

export interface S3TestServer {
  endpoint: string;
  port: number;
  bucket: string;
  /** The s3rver data directory (for tests that must look at what the server kept). */
  directory: string;
  /** The standard AWS variables that point the SDK (and the aws CLI) at this server. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startS3Server(bucket = 'dbdrill-test'): Promise<S3TestServer> {
  const S3rver = require('s3rver') as S3rverCtor;
  const directory = mkdtempSync(path.join(tmpdir(), 's3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
    // Virtual-host access would resolve <bucket>.127.0.0.1; the store uses path style for custom endpoints.
    vhostBuckets: false,
  });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    port: address.port,
    bucket,
    directory,
    env: {
      // s3rver's built-in account; not a secret.
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: endpoint,
    },
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
