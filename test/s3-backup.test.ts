/**
 * A real backup to a real S3 protocol server, read back by the real `aws` CLI and verified from
 * the downloaded file and straight from s3://.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { backup, type BackupResult } from '../src/core/backup.js';
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
