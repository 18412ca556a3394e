/**
 * A real S3 protocol server on 127.0.0.1 for the store tests.
 *
 * Why s3rver: it is a pure-JavaScript S3 protocol server (REST + SigV4 key checks, multipart
 * uploads, ListObjectsV2 paging) installable from npm, and there is no docker here for MinIO.
 * Known gaps we rely on knowing: it does not implement AbortMultipartUpload (405) nor
 * ListMultipartUploads, ignores flexible checksums, and checks the access key id but not the
 * secret of SigV4 signatures.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Runs in the child. s3rver encrypts ListObjectsV2 continuation tokens with DES, which
 * OpenSSL 3 only offers through the legacy provider; without it, any listing of more than
 * 1000 keys fails with InternalError. Hence a separate process with --openssl-legacy-provider
 * (which also makes it a real server process, as S3 would be).
 */
const CHILD = `
const S3rver = require('s3rver');
const [directory, bucket] = process.argv.slice(1);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory,
  configureBuckets: [{ name: bucket }], vhostBuckets: false });
server.run().then((a) => process.stdout.write(JSON.stringify({ port: a.port }) + '\\n'));
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
`;

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
  const directory = mkdtempSync(path.join(tmpdir(), 's3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD, directory, bucket], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.on('exit', (code) => reject(new Error(`s3rver exited with ${code}: ${stderr}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
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
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
