/**
 * The app's secret store (KEK files, .env, TLS keys) travels inside the bundle so that one bundle
 * is one recovery point. Only names, sizes and hashes ever leave this module.
 */
import { createHash } from 'node:crypto';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';

import type { SecretsRecord } from './bundle/manifest.js';
import { sha256File } from './bundle/stream-utils.js';
import { ConfigError } from './errors.js';

export interface SecretFile {
  /** Absolute path on this machine. */
  source: string;
  /** Path inside the bundle: secrets/<name>. */
  member: string;
  sizeBytes: number;
  sha256: string;
}

export async function collectSecretFiles(paths: string[], input: string): Promise<SecretFile[]> {
  const out: SecretFile[] = [];
  const seen = new Map<string, string>();
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new ConfigError(`${input}: "${path}" does not exist`);
    const files = info.isDirectory() ? await walk(path, input, new Set([await realpath(path)])) : [path];
    for (const file of files) {
      const rel = info.isDirectory() ? join(basename(path), relative(path, file)) : basename(file);
      const member = `secrets/${rel.split('\\').join('/')}`;
      const clash = seen.get(member);
      if (clash) {
        throw new ConfigError(
          `${input}: "${file}" and "${clash}" would both be stored as ${member}; rename one or list their directory instead`,
        );
      }
      seen.set(member, file);
      const { sha256, sizeBytes } = await sha256File(file).catch((err: NodeJS.ErrnoException) => {
        throw new ConfigError(
          `${input}: cannot read "${file}" (${err.code ?? err.message}); check its permissions`,
        );
      });
      out.push({ source: file, member, sizeBytes, sha256 });
    }
  }
  return out;
}

/**
 * Every file under `dir`, following symlinks: a secret store is often a directory of links (a
 * Kubernetes Secret volume links each key to `..data/<key>`, Vault Agent and sops templates link
 * into their own dirs), and a key left out silently would make a drill pass without it.
 * Entries named `..*` are skipped: they are the Kubernetes AtomicWriter's internals (`..data`,
 * `..2026_12_01_05_40_00.123`), whose timestamped names change at every rotation; the visible
 * links already lead to the same files. See
 * https://github.com/kubernetes/kubernetes/blob/master/pkg/volume/util/atomic_writer.go
 */
async function walk(dir: string, input: string, visiting: Set<string>): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('..')) continue;
    const full = join(dir, entry.name);
    const info = entry.isSymbolicLink() ? await stat(full).catch(() => undefined) : entry;
    if (!info) {
      throw new ConfigError(
        `${input}: "${full}" is a symbolic link to nothing; fix or remove the link, or list the files one by one`,
      );
    }
    if (info.isDirectory()) {
      const real = await realpath(full);
      // A link back up the tree would otherwise recurse until the path is too long.
      if (visiting.has(real)) continue;
      out.push(...(await walk(full, input, new Set([...visiting, real]))));
    } else if (info.isFile()) out.push(full);
  }
  return out.sort();
}

/** Identifies a secret set by its members' paths and hashes; equal sets give equal fingerprints. */
export function secretsFingerprint(files: { member: string; sha256: string }[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => a.member.localeCompare(b.member)))
    h.update(`${f.member}\0${f.sha256}\n`);
  return 'sha256:' + h.digest('hex');
}

export function secretsRecord(files: SecretFile[]): SecretsRecord | null {
  if (files.length === 0) return null;
  return {
    fingerprint: secretsFingerprint(files),
    files: files.map((f) => ({ path: f.member, sizeBytes: f.sizeBytes })),
  };
}
