/**
 * TEST DOUBLE of GitHub's artifact service, on 127.0.0.1. No GitHub runs here, so this stands in
 * for the three things @actions/artifact v6 talks to (read from its source, lib/internal/*):
 *
 * - the results service's Twirp JSON routes under
 *   /twirp/github.actions.results.api.v1.ArtifactService/ (CreateArtifact, FinalizeArtifact,
 *   ListArtifacts, GetSignedArtifactURL, DeleteArtifact), filtered by the run's backend ids that
 *   the client takes from the ACTIONS_RUNTIME_TOKEN JWT's `scp` claim;
 * - Azure Blob Storage at the signed URLs it hands out (pointing back here): the upload is
 *   BlockBlobClient.uploadStream, i.e. `PUT ?comp=block&blockid=…` per 8 MiB block and then
 *   `PUT ?comp=blocklist` with an XML <BlockList>; the download is a plain GET;
 * - the REST API (GITHUB_API_URL): list the repository's artifacts, get a run, download an
 *   artifact (302 to the blob), delete an artifact.
 *
 * Runs are modelled by `runId` + backend ids; `runs` holds each run's conclusion.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DoubleArtifact {
  id: number;
  name: string;
  runId: number;
  runBackendId: string;
  jobBackendId: string;
  createdAt: Date;
  size: number;
  blob?: Buffer;
  finalized: boolean;
  expired: boolean;
}

export interface ArtifactServiceDouble {
  url: string;
  artifacts: DoubleArtifact[];
  /** runId -> conclusion ("success", "failure", null while running). */
  runs: Map<number, string | null>;
  /** Requests seen, "METHOD path" (no query), for tests that check which routes were used. */
  requests: string[];
  /** Env for a job of run `runId`: the runtime token (a JWT with the backend ids), URLs and repo. */
  envFor(runId: number, job?: string): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

const TWIRP = '/twirp/github.actions.results.api.v1.ArtifactService/';

function b64url(obj: unknown): string {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, obj: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(obj));
}

export async function startArtifactServiceDouble(repo = 'acme/shop'): Promise<ArtifactServiceDouble> {
  const artifacts: DoubleArtifact[] = [];
  const runs = new Map<number, string | null>();
  const requests: string[] = [];
  const blocks = new Map<number, Map<string, Buffer>>();
  let nextId = 1000;
  let url = '';
  const backend = (runId: number) => `run-${runId}`;
  const runOfBackend = (id: string) => Number(id.replace(/^run-/, ''));

  const twirpArtifact = (a: DoubleArtifact) => ({
    workflow_run_backend_id: a.runBackendId,
    workflow_job_run_backend_id: a.jobBackendId,
    database_id: String(a.id),
    name: a.name,
    size: String(a.size),
    created_at: a.createdAt.toISOString(),
  });

  const twirp = async (method: string, req: IncomingMessage, res: ServerResponse) => {
    const input = JSON.parse((await body(req)).toString() || '{}') as Record<string, unknown>;
    const runBackendId = String(input.workflow_run_backend_id ?? '');
    const live = artifacts.filter((a) => a.runBackendId === runBackendId && a.finalized && !a.expired);
    switch (method) {
      case 'CreateArtifact': {
        const name = String(input.name);
        if (artifacts.some((a) => a.runBackendId === runBackendId && a.name === name)) {
          return json(res, 409, {
            code: 'already_exists',
            msg: `an artifact named ${name} already exists in this run`,
          });
        }
        const a: DoubleArtifact = {
          id: nextId++,
          name,
          runId: runOfBackend(runBackendId),
          runBackendId,
          jobBackendId: String(input.workflow_job_run_backend_id ?? ''),
          createdAt: new Date(Date.UTC(2026, 0, 1) + nextId * 1000),
          size: 0,
          finalized: false,
          expired: false,
        };
        artifacts.push(a);
        return json(res, 200, {
          ok: true,
          signed_upload_url: `${url}/blob/${a.id}?sig=double-upload-signature`,
        });
      }
      case 'FinalizeArtifact': {
        const a = artifacts.find(
          (x) => x.runBackendId === runBackendId && x.name === input.name && !x.finalized,
        );
        if (!a || !a.blob)
          return json(res, 404, { code: 'not_found', msg: 'no uploaded artifact to finalize' });
        a.finalized = true;
        a.size = Number(input.size ?? a.blob.length);
        return json(res, 200, { ok: true, artifact_id: String(a.id) });
      }
      case 'ListArtifacts': {
        const nameFilter = input.name_filter as string | undefined;
        const idFilter = input.id_filter as string | undefined;
        const found = live.filter(
          (a) =>
            (nameFilter === undefined || a.name === nameFilter) &&
            (idFilter === undefined || String(a.id) === String(idFilter)),
        );
        return json(res, 200, { artifacts: found.map(twirpArtifact) });
      }
      case 'GetSignedArtifactURL': {
        const a = live.find((x) => x.name === input.name);
        if (!a) return json(res, 404, { code: 'not_found', msg: 'artifact not found' });
        return json(res, 200, { signed_url: `${url}/blob/${a.id}?sig=double-download-signature` });
      }
      case 'DeleteArtifact': {
        const i = artifacts.findIndex((x) => x.runBackendId === runBackendId && x.name === input.name);
        if (i < 0) return json(res, 404, { code: 'not_found', msg: 'artifact not found' });
        const [a] = artifacts.splice(i, 1);
        return json(res, 200, { ok: true, artifact_id: String(a.id) });
      }
      default:
        return json(res, 404, { code: 'bad_route', msg: `no method ${method}` });
    }
  };

  const blob = async (id: number, req: IncomingMessage, res: ServerResponse, q: URLSearchParams) => {
    const a = artifacts.find((x) => x.id === id);
    if (!a) return json(res, 404, { msg: 'no such blob' });
    if (req.method === 'PUT' && q.get('comp') === 'block') {
      const m = blocks.get(id) ?? new Map<string, Buffer>();
      m.set(q.get('blockid')!, await body(req));
      blocks.set(id, m);
      res.writeHead(201, { 'x-ms-request-id': 'double', 'x-ms-version': '2025-01-05' });
      return res.end();
    }
    if (req.method === 'PUT' && q.get('comp') === 'blocklist') {
      const xml = (await body(req)).toString();
      const ids = [...xml.matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)].map((m) => m[1]);
      const staged = blocks.get(id) ?? new Map<string, Buffer>();
      const missing = ids.filter((b) => !staged.has(b));
      if (missing.length) return json(res, 400, { msg: `blocks not staged: ${missing.join(',')}` });
      a.blob = Buffer.concat(ids.map((b) => staged.get(b)!));
      blocks.delete(id);
      res.writeHead(201, { 'x-ms-request-id': 'double', 'x-ms-version': '2025-01-05', etag: '"double"' });
      return res.end();
    }
    if (req.method === 'PUT') {
      // Single-shot upload (Put Blob), in case a client version sends one.
      a.blob = await body(req);
      res.writeHead(201, { 'x-ms-request-id': 'double' });
      return res.end();
    }
    if (req.method === 'GET') {
      if (!a.blob || !a.finalized) return json(res, 404, { msg: 'blob not committed' });
      res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Length': String(a.blob.length) });
      return res.end(a.blob);
    }
    return json(res, 405, { msg: 'method not allowed' });
  };

  const restArtifact = (a: DoubleArtifact) => ({
    id: a.id,
    name: a.name,
    size_in_bytes: a.size,
    expired: a.expired,
    created_at: a.createdAt.toISOString(),
    workflow_run: { id: a.runId },
  });

  const rest = (req: IncomingMessage, res: ServerResponse, path: string, q: URLSearchParams) => {
    // "rejected-token" plays a token without actions: read.
    if (
      !/^(Bearer|token) \S+/.test(req.headers.authorization ?? '') ||
      /rejected-token/.test(req.headers.authorization ?? '')
    ) {
      return json(res, 401, { message: 'Requires authentication' });
    }
    const base = `/repos/${repo}/actions`;
    if (req.method === 'GET' && path === `${base}/artifacts`) {
      const perPage = Number(q.get('per_page') ?? 30);
      const page = Number(q.get('page') ?? 1);
      const all = artifacts.filter((a) => a.finalized).sort((x, y) => y.id - x.id);
      return json(res, 200, {
        total_count: all.length,
        artifacts: all.slice((page - 1) * perPage, page * perPage).map(restArtifact),
      });
    }
    let m = new RegExp(`^${base}/runs/(\\d+)$`).exec(path);
    if (req.method === 'GET' && m) {
      if (!runs.has(Number(m[1]))) return json(res, 404, { message: 'Not Found' });
      return json(res, 200, { id: Number(m[1]), status: 'completed', conclusion: runs.get(Number(m[1])) });
    }
    m = new RegExp(`^${base}/artifacts/(\\d+)/zip$`).exec(path);
    if (req.method === 'GET' && m) {
      const a = artifacts.find((x) => x.id === Number(m![1]) && x.finalized);
      if (!a || a.expired)
        return json(res, a ? 410 : 404, { message: a ? 'Artifact has expired' : 'Not Found' });
      res.writeHead(302, { Location: `${url}/blob/${a.id}?sig=double-rest-signature` });
      return res.end();
    }
    m = new RegExp(`^${base}/artifacts/(\\d+)$`).exec(path);
    if (req.method === 'DELETE' && m) {
      const i = artifacts.findIndex((x) => x.id === Number(m![1]));
      if (i >= 0) artifacts.splice(i, 1);
      res.writeHead(204);
      return res.end();
    }
    return json(res, 404, { message: `double: no route ${req.method} ${path}` });
  };

  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(`${req.method} ${u.pathname}`);
    const done = (p: Promise<unknown> | unknown) =>
      Promise.resolve(p).catch((err: Error) => {
        if (!res.headersSent) json(res, 500, { msg: err.message });
      });
    if (u.pathname.startsWith(TWIRP) && req.method === 'POST')
      return void done(twirp(u.pathname.slice(TWIRP.length), req, res));
    const blobMatch = /^\/blob\/(\d+)$/.exec(u.pathname);
    if (blobMatch) return void done(blob(Number(blobMatch[1]), req, res, u.searchParams));
    if (u.pathname.startsWith('/repos/')) return void done(rest(req, res, u.pathname, u.searchParams));
    json(res, 404, { msg: `double: no route ${req.method} ${u.pathname}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    get url() {
      return url;
    },
    artifacts,
    runs,
    requests,
    envFor(runId: number, job = 'job-1') {
      const jwt = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ scp: `Actions.GenericRead Actions.Results:${backend(runId)}:${job}` })}.double-signature`;
      return {
        ACTIONS_RUNTIME_TOKEN: jwt,
        ACTIONS_RESULTS_URL: `${url}/`,
        GITHUB_API_URL: url,
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_REPOSITORY: repo,
        GITHUB_RUN_ID: String(runId),
        GITHUB_WORKSPACE: process.cwd(),
      };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
