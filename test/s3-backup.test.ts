/**
 * A real backup to a real S3 protocol server, read back by the real `aws` CLI and verified from
 * the downloaded file and straight from s3://; and a download cut short by the network (a proxy
 * that closes the connection mid-body), which must not be taken for a damaged bundle.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { verifyJson } from '../src/cli/main.js';
import { backup, type BackupResult } from '../src/core/backup.js';
import { readVerifyRecord } from '../src/core/catalog/index.js';
import { fetchAndVerify } from '../src/core/drill/fetch.js';
import { DrillRecorder } from '../src/core/drill/recorder.js';
import { CheckFailed, EnvironmentFault } from '../src/core/errors.js';
import type { VerifyResult } from '../src/core/inspection/index.js';
import { OptionReader, parseBackupOptions, parseVerifyOptions } from '../src/core/options/index.js';
import { verify } from '../src/core/verify.js';
import { startTestCluster, type TestCluster } from './helpers/pg-cluster.js';
import { startS3Server, type S3TestServer } from './helpers/s3-server.js';
import { tempDir, testDeps } from './helpers/deps.js';

let cluster: TestCluster;
let s3: S3TestServer;
let work: { dir: string; remove: () => Promise<void> };
let result: BackupResult;
const saved = { ...process.env };

beforeAll(async () => {
  cluster = await startTestCluster({ database: 'shop' });
  await cluster.loadRealisticSchema();
  s3 = await startS3Server('dbdrill-backups');
  work = await tempDir();
  Object.assign(process.env, s3.env);
  result = await backup(
    testDeps(),
    parseBackupOptions(
      new OptionReader({ 'database-url': cluster.url, store: `s3://${s3.bucket}/prod/shop`, name: 'shop' }),
    ),
  );
});

afterAll(async () => {
  process.env = saved;
  await s3?.stop();
  await cluster?.stop();
  await work?.remove();
});

describe('backup to S3', () => {
  it('publishes the bundle and its checksum under the prefix', () => {
    expect(result.bundle).toBe(`s3://${s3.bucket}/prod/shop/${result.key}`);
    expect(result.sizeBytes).toBeGreaterThan(10_000);
  });

  it('the real aws CLI lists and downloads it, and verify passes on the downloaded file', async () => {
    const home = mkdtempSync(join(work.dir, 'aws-'));
    writeFileSync(join(home, 'config'), '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      AWS_CONFIG_FILE: join(home, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
      AWS_ACCESS_KEY_ID: s3.env.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: s3.env.AWS_SECRET_ACCESS_KEY,
    };
    const aws = (args: string[]) =>
      promisify(execFile)('aws', ['--endpoint-url', s3.endpoint, ...args], { env });
    const ls = await aws(['s3', 'ls', `s3://${s3.bucket}/prod/shop/`]);
    expect(ls.stdout).toContain(result.key);
    expect(ls.stdout).toContain(`${result.key}.sha256`);
    const local = join(work.dir, result.key);
    await aws(['s3', 'cp', result.bundle, local]);
    const fromFile = await verify(
      testDeps(),
      parseVerifyOptions(new OptionReader({ bundle: local, deep: 'true' })),
    );
    expect(fromFile.ok).toBe(true);
  });

  it('verifies straight from s3://, newest by name, against the stored checksum', async () => {
    const r = await verify(
      testDeps(),
      parseVerifyOptions(
        new OptionReader({ store: `s3://${s3.bucket}/prod/shop`, name: 'shop', deep: 'true' }),
      ),
    );
    expect(r.ok).toBe(true);
    expect(r.layers.find((l) => l.name === 'stored object')?.detail).toContain('intact');
  });
});

/**
 * An HTTP proxy in front of s3rver that forwards everything, except that the body of a GET of a
 * bundle (`*.dbdrill.tar`) is cut after `cutAfter` bytes by closing the connection: what a
 * network fault or a store restart does to a download.
 */
async function cuttingProxy(
  target: string,
  cutAfter: number,
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        res.flushHeaders();
        if (req.method !== 'GET' || !req.url?.split('?')[0].endsWith('.dbdrill.tar')) {
          up.pipe(res);
          return;
        }
        let sent = 0;
        up.on('data', (chunk: Buffer) => {
          if (sent + chunk.length >= cutAfter) {
            up.destroy();
            // the headers and the first bytes reach the client, then the connection drops
            res.write(chunk.subarray(0, cutAfter - sent), () => res.socket?.destroy());
            return;
          }
          sent += chunk.length;
          res.write(chunk);
        });
        up.on('end', () => res.end());
      },
    );
    req.pipe(forward);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('a download cut short by the network', () => {
  const store = () => `s3://${s3.bucket}/prod/shop`;

  it('verify: could not verify (a fault reading the store), not a changed bundle; no record written', async () => {
    const deps = testDeps();
    // the oracle: read whole, the same bundle verifies, and its record says so
    await verify(deps, parseVerifyOptions(new OptionReader({ store: store(), name: 'shop' })));
    const before = await readVerifyRecord(deps.openStore(store()), result.key);
    expect(before?.ok).toBe(true);

    const proxy = await cuttingProxy(s3.endpoint, 40_000);
    process.env.AWS_ENDPOINT_URL_S3 = proxy.endpoint;
    try {
      const err = await verify(
        testDeps(),
        parseVerifyOptions(new OptionReader({ store: store(), name: 'shop', deep: 'true' })),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CheckFailed);
      const r = (err as CheckFailed<VerifyResult>).result!;
      expect((err as Error).message).toMatch(
        /^could not verify s3:\/\/.*: could not read s3:\/\/.* to its end \(.*, after \d+ bytes\)\. This is a fault reading the store, not in the bundle/,
      );
      expect(r.ok).toBe(false);
      expect(r.inconclusive).toBeDefined();
      expect(verifyJson(r)).toMatchObject({ ok: false, inconclusive: r.inconclusive });
      expect(r.layers.filter((l) => !l.ok).map((l) => l.name)).toEqual(['stored object']);
      expect(r.problems.join('\n')).not.toMatch(/changed after the backup|truncated|corrupt/);
      // the record still holds the last real verdict
      expect(await readVerifyRecord(testDeps().openStore(store()), result.key)).toEqual(before);

      // the drill's fetch says the same, and tries no other bundle
      const dd = testDeps();
      const recorder = new DrillRecorder(dd, 'shop');
      const work = mkdtempSync(join(tmpdirOf(), 'fetch-'));
      const fetchErr = await fetchAndVerify(
        dd,
        { name: 'shop' },
        dd.openStore(store()),
        recorder,
        work,
      ).catch((e: unknown) => e);
      expect(fetchErr).toBeInstanceOf(EnvironmentFault);
      expect((fetchErr as Error).message).toMatch(/could not be fetched: could not read .* to its end/);
      expect((fetchErr as Error).message).not.toContain('verifies');
    } finally {
      process.env.AWS_ENDPOINT_URL_S3 = s3.env.AWS_ENDPOINT_URL_S3;
      await proxy.close();
    }
    // before the fix this hung: the body failed unheard while the sidecar was read
  }, 60_000);
});

describe('a store that cannot be reached', () => {
  it('verify: could not verify (not a failed bundle), and no record is written', async () => {
    const before = await readVerifyRecord(testDeps().openStore(`s3://${s3.bucket}/prod/shop`), result.key);
    process.env.AWS_ENDPOINT_URL_S3 = 'http://127.0.0.1:1'; // nothing listens there
    try {
      const err = await verify(
        testDeps(),
        parseVerifyOptions(new OptionReader({ bundle: result.bundle })),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CheckFailed);
      expect((err as Error).message).toMatch(/^could not verify s3:\/\/.*: cannot read s3:\/\/.*unreachable/);
      const r = (err as CheckFailed<VerifyResult>).result!;
      expect(r.inconclusive).toBeDefined();
      expect(r.layers.filter((l) => !l.ok).map((l) => l.name)).toEqual(['stored object']);
    } finally {
      process.env.AWS_ENDPOINT_URL_S3 = s3.env.AWS_ENDPOINT_URL_S3;
    }
    expect(await readVerifyRecord(testDeps().openStore(`s3://${s3.bucket}/prod/shop`), result.key)).toEqual(
      before,
    );
  }, 60_000);
});

function tmpdirOf(): string {
  return work.dir;
}
