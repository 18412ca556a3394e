/**
 * `artifact://<name>`: GitHub workflow artifacts as a store.
 *
 * Every object is its own artifact, named `<name>.<key>` (bundles, their `.sha256` and
 * `.verify.json` sidecars, the drill history), because artifacts are immutable once finalized and
 * their names unique within a run. Reading sees the current run's artifacts (the runtime's
 * Twirp service) and, with a token that has `actions: read`, those of other runs of the
 * repository whose run concluded `success` (REST). When several runs hold the same key, the newest
 * artifact wins, which is how writeText "replaces" the drill history across runs.
 *
 * @actions/artifact uploads files, not streams: put spools the body to a private temp file
 * (0600 in a 0700 dir) while hashing it, uploads the file, and removes it. Memory stays bounded
 * (streams throughout); disk holds one more copy of the bundle for the length of the upload.
 *
 * Core never imports @actions/*: the service is a port (ArtifactService), implemented with
 * @actions/artifact in src/adapters/actions-artifact.ts.
 */
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import { makeWorkDir } from '../work-dir.js';
import { HashingStream } from '../bundle/stream-utils.js';
import type { PutOptions, PutResult, Store, StoredObject } from './store.js';
import { ObjectExistsError, ObjectNotFoundError, validateStoreKey } from './store-errors.js';

export interface ArtifactInfo {
  id: number;
  name: string;
  sizeBytes: number;
  createdAt?: Date;
  /** The workflow run that holds it; undefined for the current run. */
  runId?: number;
}

/** What the store needs from GitHub; the adapter implements it with @actions/artifact and REST. */
export interface ArtifactService {
  /** Uploads one file as an artifact of the current run. */
  upload(
    name: string,
    file: string,
    options: { retentionDays?: number },
  ): Promise<{ id: number; sizeBytes: number }>;
  listCurrentRun(): Promise<ArtifactInfo[]>;
  /** Non-expired artifacts of other runs that concluded success, whose name starts with namePrefix. */
  listOtherRuns(namePrefix: string, token: string): Promise<ArtifactInfo[]>;
  /** Downloads (and unpacks) the artifact's files into dir. */
  download(artifact: ArtifactInfo, dir: string, token?: string): Promise<void>;
  delete(artifact: ArtifactInfo, token?: string): Promise<void>;
}

export interface ArtifactStoreDeps {
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  service?: () => ArtifactService;
  retentionDays?: number;
  githubToken?: string;
}

export const ARTIFACT_WARNING =
  'artifact:// store: workflow artifacts expire (after retention-days; 90 days at most on public repositories) and anyone who can read the repository can download them. Use it for CI hand-offs and drills, not as the only copy of a backup.';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function parseArtifactUri(uri: string): string {
  const m = /^artifact:\/\/([^/]*)\/?$/.exec(uri.trim());
  if (!m || !NAME_RE.test(m[1])) {
    throw new ConfigError(
      `store "${uri}" is not a valid artifact store: write artifact://<name> with a name of letters, digits, ".", "_" or "-" (no slashes)`,
    );
  }
  return m[1];
}

export class ArtifactStore implements Store {
  readonly displayUri: string;
  readonly artifactPrefix: string;
  private readonly logger: Logger;
  private readonly token?: string;
  private readonly retentionDays?: number;
  private readonly service: ArtifactService;
  private warned = false;

  constructor(uri: string, deps: ArtifactStoreDeps) {
    const name = parseArtifactUri(uri);
    this.displayUri = `artifact://${name}`;
    this.artifactPrefix = `${name}.`;
    this.logger = deps.logger;
    const env = deps.env ?? process.env;
    const missing = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL'].filter((v) => !env[v]);
    if (missing.length > 0) {
      throw new ConfigError(
        `store ${this.displayUri} only works inside a GitHub Actions job (${missing.join(' and ')} not set); elsewhere use a directory or s3://bucket/prefix`,
      );
    }
    if (!deps.service) {
      throw new ConfigError(
        `store ${this.displayUri} needs the GitHub artifact client, which this build does not include; use the dbdrill actions or CLI`,
      );
    }
    this.service = deps.service();
    this.token = deps.githubToken || env.GITHUB_TOKEN || undefined;
    this.retentionDays = deps.retentionDays;
    if (this.retentionDays !== undefined && (this.retentionDays < 1 || this.retentionDays > 90)) {
      this.logger.warning(
        `retention-days ${this.retentionDays}: public repositories allow 1 to 90 days; GitHub caps it at the repository's limit`,
      );
    }
  }

  private warnOnce(): void {
    if (this.warned) return;
    this.warned = true;
    this.logger.warning(ARTIFACT_WARNING);
  }

  /**
   * Refuses a bundle that holds secret files in plain text: anyone with read access to the
   * repository can download artifacts. Called by backup before it dumps anything.
   */
  checkBundle(bundle: { secretFiles: number; encrypted: boolean }): void {
    this.warnOnce();
    if (bundle.secretFiles > 0 && !bundle.encrypted) {
      throw new ConfigError(
        `store ${this.displayUri}: this bundle holds ${bundle.secretFiles} secret file(s) and is not encrypted, and anyone who can read the repository can download workflow artifacts; set recipients (or passphrase), or use another store`,
      );
    }
  }

  private artifactName(key: string): string {
    return this.artifactPrefix + validateStoreKey(key);
  }

  /** Newest artifact per key: the current run first (it is the newest), then other runs by creation time and id. */
  private async artifacts(prefix: string): Promise<Map<string, ArtifactInfo>> {
    const namePrefix = this.artifactPrefix + prefix;
    const current = (await this.service.listCurrentRun()).filter((a) => a.name.startsWith(namePrefix));
    let others: ArtifactInfo[] = [];
    if (this.token) others = await this.service.listOtherRuns(namePrefix, this.token);
    else {
      this.logger.debug(
        `${this.displayUri}: no github-token or GITHUB_TOKEN, so only this run's artifacts are visible`,
      );
    }
    const byKey = new Map<string, ArtifactInfo>();
    const order = (a: ArtifactInfo, b: ArtifactInfo): number =>
      (a.runId === undefined ? 1 : 0) - (b.runId === undefined ? 1 : 0) ||
      (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0) ||
      a.id - b.id;
    const newer = (a: ArtifactInfo, b: ArtifactInfo): boolean => order(a, b) > 0;
    for (const a of [...current, ...others]) {
      const key = a.name.slice(this.artifactPrefix.length);
      const seen = byKey.get(key);
      if (!seen || newer(a, seen)) byKey.set(key, a);
    }
    return byKey;
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const byKey = await this.artifacts(prefix);
    return [...byKey.entries()].map(([key, a]) => ({ key, sizeBytes: a.sizeBytes, modifiedAt: a.createdAt }));
  }

  async put(key: string, body: Readable, options: PutOptions = {}): Promise<PutResult> {
    this.warnOnce();
    const name = this.artifactName(key);
    const existing = (await this.service.listCurrentRun()).filter((a) => a.name === name);
    if (existing.length > 0) {
      if (options.noOverwrite ?? true) throw new ObjectExistsError(key, this.displayUri);
      for (const a of existing) await this.service.delete(a);
    }
    const work = await makeWorkDir('artifact');
    try {
      const file = join(work.dir, key);
      const hasher = new HashingStream();
      const handle = await open(file, 'wx', 0o600);
      try {
        body.once('error', (err) => hasher.destroy(err));
        for await (const chunk of body.pipe(hasher)) {
          const buf = chunk as Buffer;
          let offset = 0;
          while (offset < buf.length)
            offset += (await handle.write(buf, offset, buf.length - offset)).bytesWritten;
        }
      } finally {
        await handle.close();
      }
      const sizeBytes = (await stat(file)).size;
      if (sizeBytes !== hasher.bytes)
        throw new Error(`spooled ${sizeBytes} bytes of ${hasher.bytes} for ${key}`);
      const uploaded = await this.service.upload(name, file, { retentionDays: this.retentionDays });
      this.logger.debug(`uploaded artifact ${name} (id ${uploaded.id}, ${sizeBytes} bytes)`);
      return { key, sizeBytes, sha256: hasher.digest(), location: `${this.displayUri}/${key}` };
    } catch (err) {
      body.destroy();
      throw err;
    } finally {
      await work.remove();
    }
  }

  /** Downloads to a private temp dir and streams the file; the dir goes when the stream closes. */
  async get(key: string): Promise<Readable> {
    const artifact = (await this.artifacts(key)).get(key);
    if (!artifact) throw new ObjectNotFoundError(key, this.displayUri);
    const work = await makeWorkDir('artifact-get');
    try {
      await this.service.download(artifact, work.dir, artifact.runId === undefined ? undefined : this.token);
      const file = await findFile(work.dir, key);
      const stream = createReadStream(file);
      stream.once('close', () => void work.remove());
      return stream;
    } catch (err) {
      await work.remove();
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const name = this.artifactName(key);
    const all = [
      ...(await this.service.listCurrentRun()).filter((a) => a.name === name),
      ...(this.token
        ? (await this.service.listOtherRuns(name, this.token)).filter((a) => a.name === name)
        : []),
    ];
    for (const a of all) await this.service.delete(a, a.runId === undefined ? undefined : this.token);
  }

  async readText(key: string): Promise<string | undefined> {
    try {
      const stream = await this.get(key);
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return undefined;
      throw err;
    }
  }

  async writeText(key: string, text: string): Promise<void> {
    await this.put(key, Readable.from([Buffer.from(text, 'utf8')]), { noOverwrite: false });
  }
}

/** The artifact's file: by its key, or the only file there (a raw download names it from headers). */
async function findFile(dir: string, key: string): Promise<string> {
  const names = await readdir(dir);
  if (names.includes(key)) return join(dir, key);
  if (names.length === 1) return join(dir, names[0]);
  throw new Error(`the downloaded artifact holds ${names.length} files and none is named ${key}`);
}
