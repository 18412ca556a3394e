/**
 * artifact:// through the real @actions/artifact client against a local TEST DOUBLE of GitHub's
 * artifact service (test/helpers/artifact-service-double.ts): no GitHub runs here. The project's
 * workflow (.github/workflows/stores.yml) exercises the real service.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

import { actionsArtifactService } from '../src/adapters/actions-artifact.js';
import { ConfigError } from '../src/core/errors.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import { ArtifactStore } from '../src/core/stores/artifact-store.js';
import { openStore } from '../src/core/stores/open-store.js';
import { ObjectExistsError, ObjectNotFoundError } from '../src/core/stores/store-errors.js';
import { startArtifactServiceDouble, type ArtifactServiceDouble } from './helpers/artifact-service-double.js';

jest.setTimeout(60_000);

let double: ArtifactServiceDouble;
const saved = { ...process.env };

/** @actions/artifact reads process.env itself, so a "job" is process.env set for that run. */
function enterRun(runId: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  for (const k of ['GITHUB_TOKEN', 'ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL']) delete process.env[k];
  Object.assign(process.env, double.envFor(runId), extra);
  return process.env;
}

function storeIn(runId: number, extra: NodeJS.ProcessEnv = {}, logger = new MemoryLogger()): ArtifactStore {
  const env = enterRun(runId, extra);
  return new ArtifactStore('artifact://ci-bundles', {
    logger,
    env,
    service: () => actionsArtifactService(env),
    retentionDays: 3,
  });
}

async function text(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const BUNDLE = 'shop-20260101T030000Z.dbdrill.tar';
const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));

beforeAll(async () => {
  double = await startArtifactServiceDouble();
});

afterAll(async () => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  await double?.close();
});

describe('outside GitHub Actions', () => {
  it('is a clear ConfigError naming what is missing and the alternatives', () => {
    expect(() => openStore('artifact://ci-bundles', { logger: new MemoryLogger(), env: {} })).toThrow(
      ConfigError,
    );
    expect(() => openStore('artifact://ci-bundles', { logger: new MemoryLogger(), env: {} })).toThrow(
      /only works inside a GitHub Actions job \(ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL not set\); elsewhere use a directory or s3:/,
    );
  });

  it('rejects a malformed artifact URI', () => {
    const env = { ACTIONS_RUNTIME_TOKEN: 'x', ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/' };
    expect(
      () =>
        new ArtifactStore('artifact://a/b', {
          logger: new MemoryLogger(),
          env,
          service: () => ({}) as never,
        }),
    ).toThrow(/artifact:\/\/<name>/);
  });
});

describe('within one run (a later job downloads what an earlier job uploaded)', () => {
  it('uploads through Twirp and blob blocks, lists, downloads byte for byte, and refuses an overwrite', async () => {
    const logger = new MemoryLogger();
    const store = storeIn(100, {}, logger);
    const put = await store.put(BUNDLE, Readable.from([payload]));
    expect(put).toMatchObject({
      key: BUNDLE,
      sizeBytes: payload.length,
      location: `artifact://ci-bundles/${BUNDLE}`,
    });
    expect(put.sha256).toBe(createHash('sha256').update(payload).digest('hex'));
    await store.writeText(BUNDLE + '.sha256', `${put.sha256}  ${BUNDLE}\n`);
    expect(
      logger.lines.some((l) =>
        /warning: artifact:\/\/ store: workflow artifacts expire .* anyone who can read the repository/.test(
          l,
        ),
      ),
    ).toBe(true);

    // The routes @actions/artifact really used.
    const seen = new Set(double.requests);
    for (const r of ['CreateArtifact', 'FinalizeArtifact', 'ListArtifacts']) {
      expect(seen).toContain(`POST /twirp/github.actions.results.api.v1.ArtifactService/${r}`);
    }
    expect([...seen].some((r) => /^PUT \/blob\/\d+$/.test(r))).toBe(true);

    const later = storeIn(100, {}, new MemoryLogger()); // another job of the same run
    expect((await later.list('shop')).map((o) => o.key).sort()).toEqual([BUNDLE, BUNDLE + '.sha256']);
    expect((await later.list('shop'))[0].sizeBytes).toBeGreaterThan(0);
    expect(Buffer.compare(await text(await later.get(BUNDLE)), payload)).toBe(0);
    expect(await later.readText(BUNDLE + '.sha256')).toBe(`${put.sha256}  ${BUNDLE}\n`);
    expect(await later.readText('shop.drill-history.jsonl')).toBeUndefined();
    await expect(later.get('shop-20990101T000000Z.dbdrill.tar')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(later.put(BUNDLE, Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(
      ObjectExistsError,
    );

    // writeText replaces (delete + upload in this run).
    await later.writeText('shop.drill-history.jsonl', '{"n":1}\n');
    await later.writeText('shop.drill-history.jsonl', '{"n":1}\n{"n":2}\n');
    expect(await later.readText('shop.drill-history.jsonl')).toBe('{"n":1}\n{"n":2}\n');
    expect(double.requests).toContain(
      'POST /twirp/github.actions.results.api.v1.ArtifactService/DeleteArtifact',
    );
  });

  it('refuses a bundle with plain secret files (anyone who can read the repo can download it)', () => {
    const store = storeIn(100);
    expect(() => store.checkBundle({ secretFiles: 2, encrypted: false })).toThrow(
      /holds 2 secret file\(s\) and is not encrypted.*set recipients/,
    );
    expect(() => store.checkBundle({ secretFiles: 2, encrypted: true })).not.toThrow();
    expect(() => store.checkBundle({ secretFiles: 0, encrypted: false })).not.toThrow();
  });
});

describe('across runs (REST with a token, then downloadArtifact with findBy)', () => {
  it("finds the newest successful run's artifacts and skips failed runs, expired artifacts and, without a token, everything else", async () => {
    double.runs.set(100, 'success');
    // Run 101 failed after uploading a newer bundle: it must not be used.
    const failed = storeIn(101);
    await failed.put('shop-20260102T030000Z.dbdrill.tar', Readable.from([Buffer.from('from a failed run')]));
    double.runs.set(101, 'failure');
    // Run 102 succeeded, but its artifact has expired.
    const expiredRun = storeIn(102);
    await expiredRun.put('shop-20260103T030000Z.dbdrill.tar', Readable.from([Buffer.from('expired')]));
    double.runs.set(102, 'success');
    double.artifacts.find((a) => a.name === 'ci-bundles.shop-20260103T030000Z.dbdrill.tar')!.expired = true;

    const noToken = storeIn(200);
    expect(await noToken.list('shop')).toEqual([]);

    const drill = storeIn(200, { GITHUB_TOKEN: 'double-token-with-actions-read' });
    expect((await drill.list('shop-')).map((o) => o.key).sort()).toEqual([BUNDLE, BUNDLE + '.sha256']);
    const before = double.requests.length;
    expect(Buffer.compare(await text(await drill.get(BUNDLE)), payload)).toBe(0);
    const used = double.requests.slice(before);
    expect(used).toContain('GET /repos/acme/shop/actions/artifacts');
    expect(double.requests).toContain('GET /repos/acme/shop/actions/runs/100');
    expect(double.requests).toContain('GET /repos/acme/shop/actions/runs/101');
    expect(used.some((r) => /^GET \/repos\/acme\/shop\/actions\/artifacts\/\d+\/zip$/.test(r))).toBe(true);

    // The drill history of an earlier run is read, appended to, and the new run's copy wins.
    expect(await drill.readText('shop.drill-history.jsonl')).toBe('{"n":1}\n{"n":2}\n');
    await drill.writeText('shop.drill-history.jsonl', '{"n":1}\n{"n":2}\n{"n":3}\n');
    expect(await drill.readText('shop.drill-history.jsonl')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
  });

  it('a rejected token is a clear error naming the permission', async () => {
    const store = storeIn(300, { GITHUB_TOKEN: 'rejected-token' });
    await expect(store.list('shop')).rejects.toThrow(
      /answered 401 \(the token needs actions: read; set github-token or GITHUB_TOKEN\)/,
    );
  });
});
