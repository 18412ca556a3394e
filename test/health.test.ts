import { afterAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/core/clock.js';
import { ConfigError } from '../src/core/errors.js';
import { MemoryLogger } from './helpers/memory-logger.js';
import {
  evaluateResponse,
  loadHealthChecksFile,
  parseHealthUrls,
  waitForHealthy,
  type HealthCheck,
} from '../src/core/checks/health.js';
import { evaluateJsonPath, JsonPathError, parseJsonPath } from '../src/core/checks/json-path.js';

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;
const servers: Server[] = [];

/** A real HTTP server on 127.0.0.1; `n` counts requests so a handler can turn healthy later. */
async function serve(
  handler: Handler,
  port = 0,
): Promise<{ url: string; port: number; requests: () => number; server: Server }> {
  let n = 0;
  const server = createServer((req, res) => handler(req, res, ++n));
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${actual}`, port: actual, requests: () => n, server };
}

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(() => r(undefined)));
  }
});

const fast = { clock: systemClock, initialDelayMs: 10, maxDelayMs: 50 };
const check = (url: string, extra: Partial<HealthCheck> = {}): HealthCheck => ({
  name: `GET ${url}`,
  method: 'GET',
  url,
  ...extra,
});

describe('waitForHealthy against real HTTP servers', () => {
  it('passes once a server turns healthy after a few requests', async () => {
    const s = await serve((_req, res, n) => {
      if (n <= 3) {
        res.writeHead(503).end('starting');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      }
    });
    const logger = new MemoryLogger();
    const [r] = await waitForHealthy([check(`${s.url}/healthz`)], { ...fast, timeoutMs: 20_000, logger });
    expect(r.ok).toBe(true);
    expect(r.attempts).toBe(4);
    expect(r.status).toBe(200);
    expect(r.lastError).toBeUndefined();
    expect(r.bodySnippet).toBe('{"status":"ok"}');
    expect(r.seconds).toBeGreaterThanOrEqual(0);
    expect(logger.lines.some((l) => l.includes('ok after 4 attempt'))).toBe(true);
  });

  it('gives up at the timeout with attempts, status, body and the last error', async () => {
    const s = await serve((_req, res) => res.writeHead(503).end('x'.repeat(2000)));
    const [r] = await waitForHealthy([check(`${s.url}/`)], {
      ...fast,
      timeoutMs: 300,
      logger: new MemoryLogger(),
    });
    expect(r.ok).toBe(false);
    expect(r.attempts).toBeGreaterThan(1);
    expect(r.status).toBe(503);
    expect(r.lastError).toContain('status 503, expected 200-399');
    expect(r.lastError).toContain('not healthy within 300 ms');
    expect(r.bodySnippet).toHaveLength(500);
  });

  it('ends the wait early on the same definite wrong answer (404, wrong body), never on 5xx, 408 or 429', async () => {
    const notFound = await serve((_req, res) => res.writeHead(404).end('no such route'));
    const wrongBody = await serve((_req, res) => res.writeHead(200).end('maintenance'));
    const busy = await serve((_req, res) => res.writeHead(429).end('slow down'));
    const booting = await serve((_req, res) => res.writeHead(503).end('starting'));
    const logger = new MemoryLogger();
    const [nf, wb] = await waitForHealthy(
      [check(`${notFound.url}/healthz`), check(`${wrongBody.url}/`, { expectBody: 'ok' })],
      { ...fast, timeoutMs: 60_000, definiteGraceMs: 200, logger },
    );
    expect(nf.ok).toBe(false);
    expect(nf.status).toBe(404);
    expect(nf.lastError).toMatch(
      /^gave up early: the same wrong answer for .* status 404, expected 200-399$/,
    );
    expect(wb.lastError).toMatch(/^gave up early: .*: body does not contain "ok"$/);
    const [b, boot] = await waitForHealthy([check(`${busy.url}/`), check(`${booting.url}/`)], {
      ...fast,
      timeoutMs: 600,
      definiteGraceMs: 50,
      logger,
    });
    expect(b.lastError).toMatch(/^not healthy within 600 ms .*status 429/);
    expect(boot.lastError).toMatch(/^not healthy within 600 ms .*status 503/);
  });

  it('a wrong answer that changes, or turns right, within the grace period is waited for', async () => {
    const s = await serve((_req, res, n) =>
      n <= 3 ? res.writeHead(404).end('router warming up') : res.writeHead(200).end('ok'),
    );
    const [r] = await waitForHealthy([check(`${s.url}/`)], {
      ...fast,
      timeoutMs: 60_000,
      definiteGraceMs: 10_000,
      logger: new MemoryLogger(),
    });
    expect(r.ok).toBe(true);
    expect(r.attempts).toBe(4);
  });

  it('prints a progress line per pending check with the attempt and the last answer', async () => {
    const s = await serve((_req, res) => res.writeHead(503).end('starting'));
    const logger = new MemoryLogger();
    await waitForHealthy([check(`${s.url}/ready`)], {
      ...fast,
      timeoutMs: 1500,
      progressEveryMs: 100,
      logger,
    });
    const progress = logger.lines.filter((l) => l.startsWith(`health: waiting for GET ${s.url}/ready:`));
    // The first line may come before any answer; later ones carry the attempt and the answer.
    expect(progress.some((l) => /of 1.5 s, attempt \d+, last: status 503, expected 200-399$/.test(l))).toBe(
      true,
    );
  });

  it('checks body substrings and JSON paths, passing and failing', async () => {
    const doc = {
      status: 'ok',
      data: [{ id: 7 }, { id: 8 }],
      'a b': true,
      checks: { db: 'up', cache: 'up' },
    };
    const s = await serve((_req, res) => res.writeHead(200).end(JSON.stringify(doc)));
    const good = check(`${s.url}/a`, {
      name: 'good',
      expectBody: '"status":"ok"',
      expectJson: [
        { path: '$.status', equals: 'ok' },
        { path: '$.data[0].id', equals: 7 },
        { path: "$['a b']", equals: true },
        { path: '$.checks[*]', equals: 'up' },
        { path: '$.missing', exists: false },
        { path: '$.data[-1]' },
      ],
    });
    const badBody = check(`${s.url}/b`, { name: 'badBody', expectBody: 'healthy' });
    const badJson = check(`${s.url}/c`, {
      name: 'badJson',
      expectJson: [
        { path: '$.status', equals: 'ready' },
        { path: '$.data[5].id' },
        { path: '$.status', exists: false },
      ],
    });
    const results = await waitForHealthy([good, badBody, badJson], {
      ...fast,
      timeoutMs: 200,
      logger: new MemoryLogger(),
    });
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    expect(byName.good.ok).toBe(true);
    expect(byName.badBody.ok).toBe(false);
    expect(byName.badBody.lastError).toContain('body does not contain "healthy"');
    expect(byName.badJson.ok).toBe(false);
    expect(byName.badJson.lastError).toContain('$.status is "ok", expected "ready"');
    expect(byName.badJson.lastError).toContain('$.data[5].id not found');
    expect(byName.badJson.lastError).toContain('$.status is "ok", expected it to be absent');
  });

  it('reports a body that is not JSON when JSON paths are expected', () => {
    const problems = evaluateResponse(check('http://x/', { expectJson: [{ path: '$.a' }] }), 200, '<html>');
    expect(problems.join()).toMatch(/body is not JSON .*\$\.a cannot be checked/);
  });

  it('honours expectStatus lists and treats a redirect as healthy by default', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/moved') res.writeHead(302, { location: 'http://192.0.2.1/' }).end();
      else res.writeHead(204).end();
    });
    const results = await waitForHealthy(
      [
        check(`${s.url}/moved`, { name: 'redirect' }),
        check(`${s.url}/empty`, { name: 'head', method: 'HEAD', expectStatus: [200, 204] }),
      ],
      { ...fast, timeoutMs: 2000, logger: new MemoryLogger() },
    );
    expect(results.map((r) => [r.name, r.ok, r.status])).toEqual([
      ['redirect', true, 302],
      ['head', true, 204],
    ]);
  });

  it('retries a refused connection until the server comes up', async () => {
    const probe = await serve((_q, r) => r.end());
    const port = probe.port;
    probe.server.close();
    await new Promise((r) => probe.server.once('close', r));
    const logger = new MemoryLogger();
    const pending = waitForHealthy([check(`http://127.0.0.1:${port}/up`)], {
      ...fast,
      timeoutMs: 30_000,
      logger,
    });
    // Start the server only after a refused attempt has been logged, so the retry path is exercised.
    while (!logger.lines.some((l) => l.includes('connection refused')))
      await new Promise((r) => setTimeout(r, 20));
    await serve((_req, res) => res.writeHead(200).end('up'), port);
    const [r] = await pending;
    expect(r.ok).toBe(true);
    expect(r.attempts).toBeGreaterThan(1);
  });

  it('reports connection refused as the last error when nothing ever listens', async () => {
    const probe = await serve((_q, r) => r.end());
    probe.server.close();
    await new Promise((r) => probe.server.once('close', r));
    const [r] = await waitForHealthy([check(`http://127.0.0.1:${probe.port}/`)], {
      ...fast,
      timeoutMs: 150,
      logger: new MemoryLogger(),
    });
    expect(r.ok).toBe(false);
    expect(r.status).toBeUndefined();
    expect(r.lastError).toContain('connection refused');
  });

  it('times out a hanging request with the per-request timeout', async () => {
    const s = await serve(() => undefined /* never answers */);
    const [r] = await waitForHealthy([check(`${s.url}/`, { timeoutMs: 100 })], {
      ...fast,
      timeoutMs: 350,
      logger: new MemoryLogger(),
    });
    expect(r.ok).toBe(false);
    expect(r.attempts).toBeGreaterThan(1);
    expect(r.lastError).toContain('no response within');
  });

  it('stops every pending check at once when the app dies, even mid-request', async () => {
    const hanging = await serve(() => undefined);
    const failing = await serve((_q, res) => res.writeHead(500).end('boom'));
    let calls = 0;
    const isAppAlive = (): boolean | string => (++calls < 5 ? true : 'app-command exited with code 3');
    const results = await waitForHealthy(
      [check(`${hanging.url}/`, { name: 'hang' }), check(`${failing.url}/`, { name: 'fail' })],
      {
        ...fast,
        timeoutMs: 600_000,
        logger: new MemoryLogger(),
        isAppAlive,
      },
    );
    for (const r of results) {
      expect(r.ok).toBe(false);
      expect(r.lastError).toContain('app-command exited with code 3');
    }
    expect(results.find((r) => r.name === 'fail')?.lastError).toContain('last attempt: status 500');
  });

  it('does not poll at all when the app is already dead', async () => {
    const s = await serve((_q, res) => res.end('ok'));
    const [r] = await waitForHealthy([check(`${s.url}/`)], {
      ...fast,
      timeoutMs: 10_000,
      logger: new MemoryLogger(),
      isAppAlive: () => false,
    });
    expect(r).toMatchObject({ ok: false, attempts: 0, lastError: 'the app exited' });
    expect(s.requests()).toBe(0);
  });

  it('ends pending checks as cancelled when the signal aborts', async () => {
    const s = await serve(() => undefined);
    const ac = new AbortController();
    const pending = waitForHealthy([check(`${s.url}/`)], {
      ...fast,
      timeoutMs: 600_000,
      logger: new MemoryLogger(),
      signal: ac.signal,
    });
    while (s.requests() === 0) await new Promise((r) => setTimeout(r, 10));
    ac.abort(new Error('SIGTERM'));
    const [r] = await pending;
    expect(r.ok).toBe(false);
    expect(r.lastError).toBe('cancelled (SIGTERM)');
  });

  it('sends URL credentials as Basic auth, masks them in results and registers them as secrets', async () => {
    let auth: string | undefined;
    const s = await serve((req, res) => {
      auth = req.headers.authorization;
      res.writeHead(auth ? 200 : 401).end();
    });
    const logger = new MemoryLogger();
    const url = `http://admin:s3cr3t-pw@127.0.0.1:${s.port}/`;
    const [c] = parseHealthUrls([url]);
    expect(c.name).not.toContain('s3cr3t-pw');
    const [r] = await waitForHealthy([c], { ...fast, timeoutMs: 2000, logger });
    expect(r.ok).toBe(true);
    expect(auth).toBe('Basic ' + Buffer.from('admin:s3cr3t-pw').toString('base64'));
    expect(r.url).toBe(`http://admin:***@127.0.0.1:${s.port}/`);
    logger.info(`leak? ${url}`);
    expect(logger.lines.join('\n')).not.toContain('s3cr3t-pw');
  });
});

describe('parseHealthUrls', () => {
  it('parses every good form and skips blanks and comments', () => {
    const checks = parseHealthUrls([
      '# the app',
      '',
      'http://127.0.0.1:3000/healthz',
      'get http://127.0.0.1:3000/ready 200',
      '  HEAD https://example.test/ping 200,204  ',
      'POST http://127.0.0.1:3000/api 201 "created ok"',
      'GET http://127.0.0.1:3000/x status: green # not a comment',
      'GET http://127.0.0.1:3000/n 200 42',
    ]);
    expect(checks).toEqual([
      { name: 'GET http://127.0.0.1:3000/healthz', method: 'GET', url: 'http://127.0.0.1:3000/healthz' },
      {
        name: 'GET http://127.0.0.1:3000/ready',
        method: 'GET',
        url: 'http://127.0.0.1:3000/ready',
        expectStatus: 200,
      },
      {
        name: 'HEAD https://example.test/ping',
        method: 'HEAD',
        url: 'https://example.test/ping',
        expectStatus: [200, 204],
      },
      {
        name: 'POST http://127.0.0.1:3000/api',
        method: 'POST',
        url: 'http://127.0.0.1:3000/api',
        expectStatus: 201,
        expectBody: 'created ok',
      },
      {
        name: 'GET http://127.0.0.1:3000/x',
        method: 'GET',
        url: 'http://127.0.0.1:3000/x',
        expectBody: 'status: green # not a comment',
      },
      {
        name: 'GET http://127.0.0.1:3000/n',
        method: 'GET',
        url: 'http://127.0.0.1:3000/n',
        expectStatus: 200,
        expectBody: '42',
      },
    ]);
  });

  it('splits a single multiline string and counts its lines', () => {
    expect(() => parseHealthUrls(['http://a.test/\n\nFETCH http://b.test/'], 'health-urls')).toThrow(
      /health-urls line 3/,
    );
  });

  it.each([
    ['FETCH http://127.0.0.1/', /unknown|neither an HTTP method/],
    ['GET', /has a method but no URL/],
    ['GET not-a-url', /where a URL belongs/],
    ['/healthz', /where a URL belongs/],
    ['ftp://127.0.0.1/file', /scheme "ftp:"/],
    ['GET http://127.0.0.1/ 700', /status 700, which is not an HTTP status/],
    ['GET http://127.0.0.1/ 20', /status 20,/],
  ])('rejects %j with a ConfigError naming the input, line and expected form', (line, why) => {
    let err: unknown;
    try {
      parseHealthUrls(['http://ok.test/', line], 'app-health');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(why);
    expect(msg).toContain('app-health line 2');
    expect(msg).toContain(JSON.stringify(line.trim()));
    expect(msg).toContain('[METHOD] URL [expected status] [expected body substring]');
  });

  it('never echoes a URL password in an error', () => {
    expect(() => parseHealthUrls(['GET http://u:hunter22@127.0.0.1/ 999'])).toThrow(/u:\*\*\*@/);
    expect(() => parseHealthUrls(['GET http://u:hunter22@127.0.0.1/ 999'])).not.toThrow(/hunter22/);
  });
});

describe('loadHealthChecksFile', () => {
  let dir: string;
  const file = async (name: string, text: string): Promise<string> => {
    dir ??= await mkdtemp(join(tmpdir(), 'dbdrill-health-'));
    const p = join(dir, name);
    await writeFile(p, text);
    return p;
  };
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads YAML with kebab-case keys, JSON-path lists and maps, and string lines', async () => {
    const p = await file(
      'checks.yaml',
      [
        'checks:',
        '  - name: api',
        '    url: http://127.0.0.1:3000/healthz',
        '    expect-status: [200, 204]',
        '    expect-json:',
        '      - path: $.status',
        '        equals: ok',
        "      - path: $['a b'][0]",
        '        exists: true',
        '    headers: {X-Probe: drill}',
        '    timeout: 2s',
        '  - url: http://127.0.0.1:3000/data',
        '    method: post',
        '    expectJson: {"$.data[0].id": 1}',
        '  - HEAD http://127.0.0.1:3000/ping 200',
      ].join('\n'),
    );
    const checks = await loadHealthChecksFile(p);
    expect(checks).toEqual([
      {
        name: 'api',
        method: 'GET',
        url: 'http://127.0.0.1:3000/healthz',
        expectStatus: [200, 204],
        expectJson: [
          { path: '$.status', equals: 'ok' },
          { path: "$['a b'][0]", exists: true },
        ],
        headers: { 'X-Probe': 'drill' },
        timeoutMs: 2000,
      },
      {
        name: 'POST http://127.0.0.1:3000/data',
        method: 'POST',
        url: 'http://127.0.0.1:3000/data',
        expectJson: [{ path: '$.data[0].id', equals: 1 }],
      },
      {
        name: 'HEAD http://127.0.0.1:3000/ping',
        method: 'HEAD',
        url: 'http://127.0.0.1:3000/ping',
        expectStatus: 200,
      },
    ]);
  });

  it('reads a JSON list', async () => {
    const p = await file(
      'checks.json',
      JSON.stringify([{ url: 'http://127.0.0.1:1/', expectBody: 'ok', timeoutMs: 500 }]),
    );
    expect(await loadHealthChecksFile(p)).toEqual([
      {
        name: 'GET http://127.0.0.1:1/',
        method: 'GET',
        url: 'http://127.0.0.1:1/',
        expectBody: 'ok',
        timeoutMs: 500,
      },
    ]);
  });

  it.each([
    ['missing.yaml', null, /cannot read .*ENOENT/],
    ['bad.yaml', 'checks: [\n  {url: ', /not valid YAML or JSON/],
    ['scalar.yaml', 'hello', /must hold a list of checks/],
    ['empty.yaml', 'checks: []', /lists no checks/],
    ['nourl.yaml', '- name: x', /check #1 needs "url"/],
    ['typo.yaml', '- url: http://a.test/\n  expect-staus: 200', /unknown key "expect-staus"/],
    ['scheme.yaml', '- url: file:///etc/passwd', /scheme "file:"/],
    ['method.yaml', '- url: http://a.test/\n  method: FETCH', /method "FETCH"/],
    ['status.yaml', '- url: http://a.test/\n  expectStatus: ok', /expectStatus "ok"/],
    [
      'path.yaml',
      '- url: http://a.test/\n  expectJson: [{path: status}]',
      /JSON path "status" must start with "\$"/,
    ],
    ['filter.yaml', "- url: http://a.test/\n  expectJson: [{path: '$..id'}]", /recursive descent/],
    ['exists.yaml', "- url: http://a.test/\n  expectJson: [{path: '$.a', exists: maybe}]", /exists "maybe"/],
    ['timeout.yaml', '- url: http://a.test/\n  timeout: soon', /timeout "soon"/],
  ])('rejects %s with a ConfigError naming the input', async (name, text, why) => {
    const p = text === null ? join(tmpdir(), 'dbdrill-no-such-dir', name) : await file(name, text);
    const err = await loadHealthChecksFile(p, 'health-checks').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(why);
    expect((err as Error).message).toContain('health-checks');
  });
});

describe('json-path subset', () => {
  const doc = { a: { b: [1, 2, { c: 'x' }] }, 'a b': { "it's": 5 }, list: [{ id: 1 }, { id: 2 }] };
  it.each([
    ['$', [doc]],
    ['$.a.b[0]', [1]],
    ['$.a.b[-1].c', ['x']],
    ["$['a b']", [{ "it's": 5 }]],
    ["$['a b']['it\\'s']", [5]],
    ['$["a b"]["it\'s"]', [5]],
    ['$.list[*].id', [1, 2]],
    ['$.list.*.id', [1, 2]],
    ['$.a.b[9]', []],
    ['$.nope.deeper', []],
    ['$.a[0]', []],
  ])('%s', (path, expected) => {
    expect(evaluateJsonPath(doc, path)).toEqual(expected);
  });

  it.each(['a.b', '$.', '$[', "$['open", '$[?(@.x)]', '$..x', '$a', "$['k'x"])('rejects %j', (path) => {
    expect(() => parseJsonPath(path)).toThrow(JsonPathError);
  });
});
