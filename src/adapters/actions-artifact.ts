/**
 * The ArtifactService port implemented with @actions/artifact (the current run's Twirp service,
 * uploads, downloads with findBy) plus two REST calls the library has no helper for: listing
 * the repository's artifacts by name prefix and checking that their run concluded `success`.
 *
 * @actions/artifact is imported lazily: @actions/github reads GITHUB_API_URL when it is first
 * loaded, and the CLI should not load the GitHub client unless an artifact:// store is used.
 */
import { dirname } from 'node:path';

import type { ArtifactInfo, ArtifactService } from '../core/stores/artifact-store.js';

type ArtifactModule = typeof import('@actions/artifact');

/** At most this many pages of 100 when listing a repository's artifacts (the newest come first). */
const MAX_PAGES = 10;

interface RestArtifact {
  id: number;
  name: string;
  size_in_bytes: number;
  expired: boolean;
  created_at?: string | null;
  workflow_run?: { id?: number | null } | null;
}

export function actionsArtifactService(env: NodeJS.ProcessEnv = process.env): ArtifactService {
  let mod: Promise<ArtifactModule> | undefined;
  const client = async () => {
    mod ??= import('@actions/artifact');
    return new (await mod).DefaultArtifactClient();
  };
  const repo = (): { owner: string; name: string } => {
    const [owner, name] = (env.GITHUB_REPOSITORY ?? '').split('/');
    if (!owner || !name)
      throw new Error(
        'GITHUB_REPOSITORY is not set (expected owner/name); artifacts of other runs cannot be found',
      );
    return { owner, name };
  };
  const api = (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/$/, '');
  const currentRun = Number(env.GITHUB_RUN_ID ?? NaN);
  const rest = async (path: string, token: string, method = 'GET'): Promise<unknown> => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        Accept: 'application/vnd.github+json',
        'X-GitHub-Api-Version': '2022-11-28',
        'User-Agent': 'dbdrill',
      },
    });
    if (method === 'DELETE' && (res.status === 204 || res.status === 404)) return undefined;
    if (!res.ok) {
      const hint =
        res.status === 401 || res.status === 403
          ? ` (the token needs actions: ${method === 'DELETE' ? 'write' : 'read'}; set github-token or GITHUB_TOKEN)`
          : '';
      throw new Error(`GitHub API ${method} ${path} answered ${res.status}${hint}`);
    }
    return res.json();
  };
  const runConclusions = new Map<number, Promise<string | null>>();
  const conclusion = (runId: number, token: string) => {
    if (!runConclusions.has(runId)) {
      const { owner, name } = repo();
      runConclusions.set(
        runId,
        rest(`/repos/${owner}/${name}/actions/runs/${runId}`, token).then(
          (r) => (r as { conclusion?: string | null }).conclusion ?? null,
        ),
      );
    }
    return runConclusions.get(runId)!;
  };

  return {
    async upload(name, file, options) {
      const res = await (
        await client()
      ).uploadArtifact(name, [file], dirname(file), {
        retentionDays: options.retentionDays,
        // Bundles are compressed (pg_dump -Fc, gzip) or encrypted already: zipping them again only costs time.
        compressionLevel: 0,
      });
      return { id: res.id ?? 0, sizeBytes: res.size ?? 0 };
    },
    async listCurrentRun() {
      const { artifacts } = await (await client()).listArtifacts({ latest: true });
      return artifacts.map((a) => ({ id: a.id, name: a.name, sizeBytes: a.size, createdAt: a.createdAt }));
    },
    async listOtherRuns(namePrefix, token) {
      const { owner, name } = repo();
      const found: ArtifactInfo[] = [];
      for (let page = 1; page <= MAX_PAGES; page++) {
        const body = (await rest(
          `/repos/${owner}/${name}/actions/artifacts?per_page=100&page=${page}`,
          token,
        )) as {
          artifacts?: RestArtifact[];
        };
        const artifacts = body.artifacts ?? [];
        for (const a of artifacts) {
          const runId = a.workflow_run?.id ?? undefined;
          if (a.expired || !a.name.startsWith(namePrefix) || runId === undefined || runId === currentRun)
            continue;
          found.push({
            id: a.id,
            name: a.name,
            sizeBytes: a.size_in_bytes,
            createdAt: a.created_at ? new Date(a.created_at) : undefined,
            runId,
          });
        }
        if (artifacts.length < 100) break;
      }
      const ok = await Promise.all(found.map(async (a) => (await conclusion(a.runId!, token)) === 'success'));
      return found.filter((_, i) => ok[i]);
    },
    async download(artifact, dir, token) {
      const c = await client();
      if (artifact.runId === undefined) {
        await c.downloadArtifact(artifact.id, { path: dir });
        return;
      }
      if (!token)
        throw new Error(
          `artifact ${artifact.name} is from run ${artifact.runId}: downloading it needs github-token`,
        );
      const { owner, name } = repo();
      await c.downloadArtifact(artifact.id, {
        path: dir,
        findBy: { token, workflowRunId: artifact.runId, repositoryOwner: owner, repositoryName: name },
      });
    },
    async delete(artifact, token) {
      if (artifact.runId === undefined) {
        await (await client()).deleteArtifact(artifact.name);
        return;
      }
      if (!token)
        throw new Error(
          `artifact ${artifact.name} is from run ${artifact.runId}: deleting it needs github-token with actions: write`,
        );
      const { owner, name } = repo();
      await rest(`/repos/${owner}/${name}/actions/artifacts/${artifact.id}`, token, 'DELETE');
    },
  };
}
