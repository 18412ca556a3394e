/**
 * The secret store as it really lies on disk: a Kubernetes Secret volume (AtomicWriter layout:
 * a timestamped dir, `..data` linking to it, each key a link to `..data/<key>`), symlinked key
 * files, a link loop and a dangling link. Real files and links; the hashes are checked with
 * node:crypto over the bytes written, not with dbdrill's own hashing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { ConfigError } from '../src/core/errors.js';
import { collectSecretFiles, secretsRecord } from '../src/core/secrets.js';
import { tempDir } from './helpers/deps.js';

let work: { dir: string; remove: () => Promise<void> };
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Writes `keys` the way the kubelet does: into a fresh timestamped dir, then swaps `..data`. */
async function kubeletWrite(volume: string, stamp: string, keys: Record<string, string>): Promise<void> {
  const target = join(volume, `..${stamp}`);
  await mkdir(target, { recursive: true });
  for (const [k, v] of Object.entries(keys)) await writeFile(join(target, k), v);
  await symlink(`..${stamp}`, join(volume, '..data_tmp'));
  await rename(join(volume, '..data_tmp'), join(volume, '..data'));
  for (const k of Object.keys(keys)) await symlink(join('..data', k), join(volume, k)).catch(() => undefined);
}

beforeAll(async () => {
  work = await tempDir();
});
afterAll(async () => {
  await work.remove();
});

describe('secret-files on disk', () => {
  it('stores a Kubernetes Secret volume under its key names, not the timestamped dir', async () => {
    const volume = join(work.dir, 'app-keys');
    await mkdir(volume);
    await kubeletWrite(volume, '2026_12_01_05_40_00.000000001', { 'kek.key': 'kek-1', 'tls.key': 'tls-1' });
    const files = await collectSecretFiles([volume], 'secret-files');
    expect(files.map((f) => f.member)).toEqual(['secrets/app-keys/kek.key', 'secrets/app-keys/tls.key']);
    expect(files.map((f) => f.sha256)).toEqual([sha('kek-1'), sha('tls-1')]);
    expect(files.map((f) => f.sizeBytes)).toEqual([5, 5]);

    // A rotation with the same contents gives the same recovery point fingerprint.
    const before = secretsRecord(files)!.fingerprint;
    await rm(join(volume, '..2026_12_01_05_40_00.000000001'), { recursive: true });
    await kubeletWrite(volume, '2026_12_02_05_40_00.000000002', { 'kek.key': 'kek-1', 'tls.key': 'tls-1' });
    const rotated = await collectSecretFiles([volume], 'secret-files');
    expect(secretsRecord(rotated)!.fingerprint).toBe(before);
  });

  it('follows a symlinked key file and a symlinked directory', async () => {
    const elsewhere = join(work.dir, 'elsewhere');
    await mkdir(join(elsewhere, 'nested'), { recursive: true });
    await writeFile(join(elsewhere, 'master.key'), 'master');
    await writeFile(join(elsewhere, 'nested', 'jwt.pem'), 'jwt');
    const store = join(work.dir, 'store-links');
    await mkdir(store);
    await writeFile(join(store, 'plain.env'), 'A=1');
    await symlink(join(elsewhere, 'master.key'), join(store, 'master.key'));
    await symlink(join(elsewhere, 'nested'), join(store, 'nested'));
    await mkdir(join(store, 'sub'));
    await writeFile(join(store, 'sub', 'sub.key'), 'sub');
    await symlink('..', join(store, 'sub', 'up'));
    const files = await collectSecretFiles([store], 'secret-files');
    const members = files.map((f) => f.member);
    expect(members).toContain('secrets/store-links/master.key');
    expect(members).toContain('secrets/store-links/nested/jwt.pem');
    expect(members).toContain('secrets/store-links/plain.env');
    expect(files.find((f) => f.member.endsWith('master.key'))!.sha256).toBe(sha('master'));
    // The link back up the tree is not followed forever.
    expect(members).toContain('secrets/store-links/sub/sub.key');
    expect(members.some((m) => m.includes('/up/'))).toBe(false);
  });

  it('refuses a dangling link, naming it and the input', async () => {
    const store = join(work.dir, 'store-dangling');
    await mkdir(store);
    await symlink(join(work.dir, 'gone.key'), join(store, 'gone.key'));
    const err = await collectSecretFiles([store], '--secret-files').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/--secret-files: ".*gone\.key" is a symbolic link to nothing/);
  });
});
