import { readFile } from 'node:fs/promises';
import type { Clock } from '../clock.js';
import { ConfigError } from '../errors.js';
import { redactUrlPasswords, type Logger } from '../logger.js';
import type { HealthResult } from '../report/model.js';
import { evaluateJsonPath, jsonEquals, JsonPathError, parseJsonPath } from './json-path.js';
import { loadYaml, type Yaml } from './yaml.js';

export type { HealthResult };

/**
 * HTTP health checks for the drill's "boot the app" phase. RTO ends when every check has
 * passed once, so the checks poll concurrently (one slow endpoint must not delay noticing the
 * others) and stop the moment the app process dies (waiting out the timeout would only inflate
 * the drill and hide the real cause).
 */

export interface JsonExpectation {
  path: string;
  /** Every value the path selects must equal this (structural equality). */
  equals?: unknown;
  /** true (the default when `equals` is absent): the path selects something; false: it selects nothing. */
  exists?: boolean;
}

export interface HealthCheck {
  name: string;
  method: string;
  url: string;
  /** Default: any status 200-399 (redirects are not followed, as with Kubernetes HTTP probes). */
  expectStatus?: number | number[];
  /** A substring the response body must contain. */
  expectBody?: string;
  expectJson?: JsonExpectation[];
  headers?: Record<string, string>;
  /** Per-request timeout; default 10 s (and never past the overall deadline). */
  timeoutMs?: number;
}

export interface WaitForHealthyOptions {
  /** Overall budget for all checks together, counted from the call. */
  timeoutMs: number;
  clock: Clock;
  /** Cancellation (SIGINT/SIGTERM): pending checks end as failed with a "cancelled" error; nothing throws. */
  signal?: AbortSignal;
  logger: Logger;
  /** First retry delay; doubles per attempt up to maxDelayMs, with jitter. Default 250. */
  initialDelayMs?: number;
  /** Default 5000. */
  maxDelayMs?: number;
  /** true while the app runs; false or a reason string once it exited: polling stops at once. */
  isAppAlive?: () => boolean | string;
  /** A progress line per pending check this often (attempt, last answer). Default 10 000. */
  progressEveryMs?: number;
  /**
   * How long the same definite wrong answer (a 4xx other than 408/429, or a body that does not
   * match) may repeat before the wait ends early with it. Default 30 000, at most the timeout.
   */
  definiteGraceMs?: number;
}

/**
 * A 4xx other than 408 (timeout) and 429 (rate limit), or a 2xx/3xx whose body is wrong: the app
 * is up and answering, and answering no. Repeated unchanged, it will not turn right by waiting
 * out health-timeout (a wrong path, a wrong expectation, a broken restore). 5xx and connection
 * errors are what a booting app says, so they never end a wait early.
 */
export function isDefiniteWrongAnswer(outcome: { status?: number; error?: string }): boolean {
  if (outcome.error === undefined || outcome.status === undefined) return false;
  const s = outcome.status;
  if (s >= 400 && s < 500) return s !== 408 && s !== 429;
  return s >= 200 && s < 400;
}

export const HEALTH_URL_LINE_FORM = '[METHOD] URL [expected status] [expected body substring]';
const HEALTH_URL_EXAMPLE = 'GET http://127.0.0.1:3000/healthz 200 ok';
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const BODY_SNIPPET_CHARS = 500;
/** Bodies are read up to this much; health endpoints are small, and a runaway body must not fill memory. */
const BODY_READ_LIMIT = 1024 * 1024;
const APP_POLL_MS = 100;
const MIN_REQUEST_MS = 1000;

/**
 * Parses the multiline `health-urls` input, one check a line:
 * `[METHOD] URL [expected status] [expected body substring]`. A third token of digits is always
 * a status (`200`, or `200,204`); everything after it is the body substring, taken verbatim
 * (surrounding quotes removed). Blank lines and lines starting with `#` are skipped.
 */
export function parseHealthUrls(lines: string[], input = 'health-urls'): HealthCheck[] {
  const checks: HealthCheck[] = [];
  const all = lines.flatMap((l) => l.split(/\r?\n/));
  all.forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fail = (why: string): never => {
      throw new ConfigError(
        `${input} line ${index + 1}: "${redactUrlPasswords(line)}" ${why}; expected "${HEALTH_URL_LINE_FORM}", e.g. "${HEALTH_URL_EXAMPLE}"`,
      );
    };
    let [first, rest] = splitToken(line);
    let method = 'GET';
    if (METHODS.has(first.toUpperCase())) {
      method = first.toUpperCase();
      if (!rest) fail('has a method but no URL');
      [first, rest] = splitToken(rest);
    } else if (/^[A-Za-z]+$/.test(first)) {
      fail(`starts with "${first}", which is neither an HTTP method (${[...METHODS].join(', ')}) nor a URL`);
    }
    const url = first;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return fail(
        `has "${redactUrlPasswords(url)}" where a URL belongs (an absolute http:// or https:// URL)`,
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      fail(`uses the scheme "${parsed.protocol}"; only http:// and https:// URLs can be checked`);
    }
    const check: HealthCheck = { name: `${method} ${redactUrlPasswords(url)}`, method, url };
    if (rest) {
      const [third, after] = splitToken(rest);
      if (/^\d+(,\d+)*$/.test(third)) {
        const statuses = third.split(',').map(Number);
        const bad = statuses.find((s) => s < 100 || s > 599);
        if (bad !== undefined) fail(`expects the status ${bad}, which is not an HTTP status (100-599)`);
        check.expectStatus = statuses.length === 1 ? statuses[0] : statuses;
        rest = after;
      }
      if (rest) check.expectBody = unquote(rest);
    }
    checks.push(check);
  });
  return checks;
}

function splitToken(s: string): [string, string] {
  const m = /^(\S+)\s*(.*)$/s.exec(s.trim());
  return m ? [m[1], m[2]] : ['', ''];
}

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0]) return t.slice(1, -1);
  return t;
}

const CHECK_KEYS = [
  'name',
  'method',
  'url',
  'expectStatus',
  'expectBody',
  'expectJson',
  'headers',
  'timeoutMs',
  'timeout',
];

/**
 * Reads the `health-checks` file: YAML or JSON (YAML is a superset), either a list of checks or
 * `{checks: [...]}`. Keys may be camelCase or kebab-case (`expect-status`). `expectJson` is a
 * list of `{path, equals?, exists?}` or a map `{"$.status": "ok"}` meaning `equals`.
 */
export async function loadHealthChecksFile(path: string, input = 'health-checks'): Promise<HealthCheck[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw unreadableHealthChecks(path, input, e);
  }
  return healthChecksFromText(text, path, input, await loadYaml());
}

/** A health-checks file that could not be read, named with the input it came from. */
export function unreadableHealthChecks(path: string, input: string, e: unknown): ConfigError {
  const code = (e as NodeJS.ErrnoException).code;
  return new ConfigError(
    `${input}: cannot read "${path}" (${code ?? (e as Error).message}); give the path of a YAML or JSON file with a list of checks`,
  );
}

/**
 * The checks in the text of a `health-checks` file, parsed with `yaml` loaded by the caller
 * (option parsing is synchronous: see `checks/yaml.ts`).
 */
export function healthChecksFromText(text: string, path: string, input: string, yaml: Yaml): HealthCheck[] {
  let doc: unknown;
  try {
    doc = yaml.parse(text);
  } catch (e) {
    throw new ConfigError(
      `${input}: "${path}" is not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  return healthChecksFromDocument(doc, path, input);
}

/**
 * The checks of a parsed `health-checks` document (what YAML or JSON parsing of the file gave),
 * apart from reading the file, so options can parse the file synchronously before any work.
 */
export function healthChecksFromDocument(doc: unknown, path: string, input = 'health-checks'): HealthCheck[] {
  const list = Array.isArray(doc) ? doc : isRecord(doc) && Array.isArray(doc.checks) ? doc.checks : undefined;
  if (!list) {
    throw new ConfigError(
      `${input}: "${path}" must hold a list of checks or an object with "checks: [...]", e.g. "checks: [{url: http://127.0.0.1:3000/healthz}]"`,
    );
  }
  if (list.length === 0)
    throw new ConfigError(`${input}: "${path}" lists no checks; add at least one {url: ...}`);
  return list.map((entry, i) => parseCheckEntry(entry, `${input} ("${path}") check #${i + 1}`));
}

function parseCheckEntry(entry: unknown, where: string): HealthCheck {
  if (typeof entry === 'string') {
    const [check] = parseHealthUrls([entry], where);
    if (!check)
      throw new ConfigError(`${where} is an empty line; give "${HEALTH_URL_LINE_FORM}" or {url: ...}`);
    return check;
  }
  if (!isRecord(entry))
    throw new ConfigError(`${where} must be an object like {url: http://..., expectStatus: 200}`);
  const e: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entry)) {
    const key = k.replace(/[-_]([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (!CHECK_KEYS.includes(key)) {
      throw new ConfigError(`${where} has the unknown key "${k}"; known keys: ${CHECK_KEYS.join(', ')}`);
    }
    e[key] = v;
  }
  if (typeof e.url !== 'string' || !e.url)
    throw new ConfigError(`${where} needs "url": an absolute http(s) URL`);
  let url: URL;
  try {
    url = new URL(e.url);
  } catch {
    throw new ConfigError(
      `${where} has the url "${redactUrlPasswords(e.url)}", which is not an absolute http(s) URL`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(
      `${where} uses the scheme "${url.protocol}"; only http:// and https:// URLs can be checked`,
    );
  }
  const method = e.method === undefined ? 'GET' : String(e.method).toUpperCase();
  if (!METHODS.has(method)) {
    throw new ConfigError(
      `${where} has the method "${String(e.method)}"; use one of ${[...METHODS].join(', ')}`,
    );
  }
  const check: HealthCheck = {
    name: e.name === undefined ? `${method} ${redactUrlPasswords(e.url)}` : String(e.name),
    method,
    url: e.url,
  };
  if (e.expectStatus !== undefined) check.expectStatus = parseStatusOption(e.expectStatus, where);
  if (e.expectBody !== undefined) {
    if (typeof e.expectBody !== 'string' || !e.expectBody) {
      throw new ConfigError(
        `${where} has a non-string or empty expectBody; give the substring the body must contain`,
      );
    }
    check.expectBody = e.expectBody;
  }
  if (e.expectJson !== undefined) check.expectJson = parseJsonExpectations(e.expectJson, where);
  if (e.headers !== undefined) {
    if (!isRecord(e.headers)) throw new ConfigError(`${where} has headers that are not a map of name: value`);
    check.headers = Object.fromEntries(Object.entries(e.headers).map(([k, v]) => [k, String(v)]));
  }
  const timeout = e.timeoutMs ?? e.timeout;
  if (timeout !== undefined) check.timeoutMs = parseTimeoutOption(timeout, where);
  return check;
}

function parseStatusOption(value: unknown, where: string): number | number[] {
  const list = Array.isArray(value) ? value : [value];
  const statuses = list.map((v) => (typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v));
  if (
    statuses.length === 0 ||
    statuses.some((s) => typeof s !== 'number' || !Number.isInteger(s) || s < 100 || s > 599)
  ) {
    throw new ConfigError(
      `${where} has expectStatus ${JSON.stringify(value)}; give an HTTP status (100-599) or a list of them, e.g. [200, 204]`,
    );
  }
  return Array.isArray(value) ? (statuses as number[]) : (statuses[0] as number);
}

function parseTimeoutOption(value: unknown, where: string): number {
  if (typeof value === 'number' && value > 0 && Number.isFinite(value)) return value;
  const m = typeof value === 'string' ? /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(value.trim()) : null;
  if (m && Number(m[1]) > 0) return Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 1);
  throw new ConfigError(
    `${where} has the timeout ${JSON.stringify(value)}; give milliseconds (5000) or "5s"`,
  );
}

function parseJsonExpectations(value: unknown, where: string): JsonExpectation[] {
  const raw: unknown[] = Array.isArray(value)
    ? value
    : isRecord(value)
      ? Object.entries(value).map(([path, equals]) => ({ path, equals }))
      : [];
  if (raw.length === 0) {
    throw new ConfigError(
      `${where} has an empty or malformed expectJson; give a list like [{path: $.status, equals: ok}]`,
    );
  }
  return raw.map((x, i) => {
    if (!isRecord(x) || typeof x.path !== 'string') {
      throw new ConfigError(`${where} expectJson #${i + 1} needs "path", e.g. {path: $.status, equals: ok}`);
    }
    const unknown = Object.keys(x).filter((k) => !['path', 'equals', 'exists'].includes(k));
    if (unknown.length)
      throw new ConfigError(
        `${where} expectJson #${i + 1} has unknown keys ${unknown.join(', ')}; use path, equals, exists`,
      );
    try {
      parseJsonPath(x.path);
    } catch (err) {
      if (err instanceof JsonPathError)
        throw new ConfigError(`${where} expectJson #${i + 1}: ${err.message}`);
      throw err;
    }
    if (x.exists !== undefined && typeof x.exists !== 'boolean') {
      throw new ConfigError(
        `${where} expectJson #${i + 1} has exists ${JSON.stringify(x.exists)}; use true or false`,
      );
    }
    const out: JsonExpectation = { path: x.path };
    if ('equals' in x) out.equals = x.equals;
    if (x.exists !== undefined) out.exists = x.exists;
    return out;
  });
}

/**
 * Polls every check concurrently with exponential backoff and jitter until each has passed once
 * or `timeoutMs` ran out. Never throws for failed checks, an exited app or cancellation: the
 * results (with `ok: false` and `lastError`) are what the report needs; callers decide.
 */
export async function waitForHealthy(
  checks: HealthCheck[],
  options: WaitForHealthyOptions,
): Promise<HealthResult[]> {
  const { clock, logger } = options;
  const initialDelay = Math.max(1, options.initialDelayMs ?? 250);
  const maxDelay = Math.max(initialDelay, options.maxDelayMs ?? 5000);
  const start = clock.monotonicMs();
  const deadline = start + Math.max(0, options.timeoutMs);
  const stop = new AbortController();
  let stopReason: string | undefined;

  const shouldStop = (): boolean => {
    if (stopReason !== undefined) return true;
    if (options.signal?.aborted) {
      stopReason = `cancelled (${reasonText(options.signal.reason)})`;
    } else if (options.isAppAlive) {
      const alive = options.isAppAlive();
      if (alive !== true) stopReason = typeof alive === 'string' && alive ? alive : 'the app exited';
    }
    if (stopReason !== undefined) stop.abort(new Error(stopReason));
    return stopReason !== undefined;
  };
  const grace = Math.min(options.definiteGraceMs ?? 30_000, Math.max(0, options.timeoutMs));
  /** Per pending check: what the progress line says. */
  const pending = new Map<string, { attempts: number; last?: string }>();
  const progress = setInterval(
    () => {
      const waited = formatMs(clock.monotonicMs() - start);
      for (const [name, p] of pending)
        logger.info(
          `health: waiting for ${name}: ${waited} of ${formatMs(options.timeoutMs)}, attempt ${p.attempts}` +
            `, last: ${p.last ?? 'no answer yet'}`,
        );
    },
    Math.max(1, options.progressEveryMs ?? 10_000),
  );
  progress.unref();
  const onAbort = (): void => void shouldStop();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // isAppAlive is a poll, not an event: check it often so a dead app ends in-flight requests and sleeps.
  const watcher = options.isAppAlive ? setInterval(onAbort, APP_POLL_MS) : undefined;
  watcher?.unref();

  for (const c of checks) {
    const u = safeUrl(c.url);
    if (u?.password) logger.addSecret(decodeURIComponent(u.password));
    for (const [k, v] of Object.entries(c.headers ?? {}))
      if (/auth|cookie|token|key|secret/i.test(k)) logger.addSecret(v);
  }

  const runOne = async (check: HealthCheck): Promise<HealthResult> => {
    const result: HealthResult = {
      name: check.name,
      url: redactUrlPasswords(check.url),
      ok: false,
      attempts: 0,
      seconds: 0,
    };
    let first: number | undefined;
    let delay = initialDelay;
    const shown = { attempts: 0, last: undefined as string | undefined };
    pending.set(check.name, shown);
    /** The definite wrong answer being repeated, and since when (monotonic ms). */
    let definite: { error: string; status?: number; since: number } | undefined;
    // When a backoff sleep is cut short by the deadline, one last attempt at the deadline still runs.
    let lastChance = false;
    for (;;) {
      if (shouldStop()) {
        result.lastError = stopReason + (result.lastError ? `; last attempt: ${result.lastError}` : '');
        break;
      }
      const now = clock.monotonicMs();
      if (result.attempts > 0 && now >= deadline && !lastChance) {
        result.lastError = `not healthy within ${formatMs(options.timeoutMs)} (${result.attempts} attempts): ${result.lastError}`;
        break;
      }
      lastChance = false;
      first ??= now;
      result.attempts++;
      // A request near the deadline still gets a fair chance (at most MIN_REQUEST_MS past it);
      // AbortSignal.timeout takes whole milliseconds only.
      const requestTimeout = Math.ceil(
        Math.min(check.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, Math.max(MIN_REQUEST_MS, deadline - now)),
      );
      const outcome = await probe(check, requestTimeout, stop.signal);
      if (outcome.status !== undefined) result.status = outcome.status;
      else delete result.status;
      if (outcome.body !== undefined) result.bodySnippet = outcome.body.slice(0, BODY_SNIPPET_CHARS);
      if (outcome.error === undefined) {
        result.ok = true;
        delete result.lastError;
        break;
      }
      if (shouldStop()) {
        // The failure was most likely our own abort; the reason is what matters.
        result.lastError =
          stopReason + (stop.signal.aborted && outcome.aborted ? '' : `; last attempt: ${outcome.error}`);
        break;
      }
      result.lastError = outcome.error;
      logger.debug(`health: ${check.name} attempt ${result.attempts}: ${outcome.error}`);
      shown.attempts = result.attempts;
      shown.last =
        outcome.status === undefined || outcome.error.startsWith('status ')
          ? outcome.error
          : `status ${outcome.status}, ${outcome.error}`;
      if (isDefiniteWrongAnswer(outcome)) {
        const at = clock.monotonicMs();
        if (definite?.error !== outcome.error || definite.status !== outcome.status)
          definite = { error: outcome.error, status: outcome.status, since: at };
        else if (at - definite.since >= grace) {
          result.lastError =
            `gave up early: the same wrong answer for ${formatMs(at - definite.since)} ` +
            `(${result.attempts} attempts), not a slow start: ${outcome.error}`;
          break;
        }
      } else definite = undefined;
      const remaining = deadline - clock.monotonicMs();
      if (remaining <= 0) continue; // the top of the loop gives up with this error
      // "Equal jitter": half the delay fixed, half random, so concurrent drills do not poll in lockstep.
      const wait = delay / 2 + Math.random() * (delay / 2);
      if (wait >= remaining) lastChance = true;
      await sleep(Math.min(remaining, wait), stop.signal);
      delay = Math.min(maxDelay, delay * 2);
    }
    pending.delete(check.name);
    result.seconds = round3((clock.monotonicMs() - (first ?? start)) / 1000);
    if (result.ok)
      logger.info(`health: ${check.name} ok after ${result.attempts} attempt(s), ${result.seconds} s`);
    else
      logger.warning(`health: ${check.name} failed after ${result.attempts} attempt(s): ${result.lastError}`);
    return result;
  };

  try {
    return await Promise.all(checks.map(runOne));
  } finally {
    if (watcher) clearInterval(watcher);
    clearInterval(progress);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

interface ProbeOutcome {
  status?: number;
  body?: string;
  /** undefined when every expectation held. */
  error?: string;
  aborted?: boolean;
}

async function probe(check: HealthCheck, timeoutMs: number, stop: AbortSignal): Promise<ProbeOutcome> {
  const { url, headers } = moveCredentialsToHeader(check.url, check.headers);
  const signal = AbortSignal.any([stop, AbortSignal.timeout(timeoutMs)]);
  let res: Response;
  try {
    res = await fetch(url, { method: check.method, headers, signal, redirect: 'manual' });
  } catch (e) {
    return { error: describeFetchError(e, timeoutMs), aborted: stop.aborted };
  }
  let body: string;
  try {
    body = await readLimited(res, BODY_READ_LIMIT);
  } catch (e) {
    return {
      status: res.status,
      error: `reading the body failed: ${describeFetchError(e, timeoutMs)}`,
      aborted: stop.aborted,
    };
  }
  const problems = evaluateResponse(check, res.status, body);
  return { status: res.status, body, error: problems.length ? problems.join('; ') : undefined };
}

/** The expectations, each failure as a sentence; exported for the drill's own reuse and for tests. */
export function evaluateResponse(check: HealthCheck, status: number, body: string): string[] {
  const problems: string[] = [];
  const expected = check.expectStatus;
  const statusOk =
    expected === undefined
      ? status >= 200 && status <= 399
      : Array.isArray(expected)
        ? expected.includes(status)
        : status === expected;
  if (!statusOk) {
    const want =
      expected === undefined ? '200-399' : Array.isArray(expected) ? expected.join(' or ') : String(expected);
    problems.push(`status ${status}, expected ${want}`);
  }
  if (check.expectBody !== undefined && !body.includes(check.expectBody)) {
    problems.push(`body does not contain ${JSON.stringify(check.expectBody)}`);
  }
  if (check.expectJson?.length) {
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch (e) {
      problems.push(
        `body is not JSON (${(e as Error).message}), so ${check.expectJson.map((x) => x.path).join(', ')} cannot be checked`,
      );
      return problems;
    }
    for (const x of check.expectJson) {
      const found = evaluateJsonPath(doc, x.path);
      if (x.exists === false) {
        if (found.length > 0) problems.push(`${x.path} is ${preview(found[0])}, expected it to be absent`);
        continue;
      }
      if (found.length === 0) {
        problems.push(`${x.path} not found`);
        continue;
      }
      if ('equals' in x) {
        const wrong = found.findIndex((v) => !jsonEquals(v, x.equals));
        if (wrong >= 0) problems.push(`${x.path} is ${preview(found[wrong])}, expected ${preview(x.equals)}`);
      }
    }
  }
  return problems;
}

function preview(v: unknown): string {
  const s = v === undefined ? 'undefined' : JSON.stringify(v);
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}

/** fetch refuses URLs with credentials; user:password@ becomes a Basic Authorization header instead. */
function moveCredentialsToHeader(
  raw: string,
  headers: Record<string, string> = {},
): { url: string; headers: Record<string, string> } {
  const u = safeUrl(raw);
  if (!u || (!u.username && !u.password)) return { url: raw, headers };
  const basic = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString(
    'base64',
  );
  u.username = '';
  u.password = '';
  const hasAuth = Object.keys(headers).some((k) => k.toLowerCase() === 'authorization');
  return { url: u.toString(), headers: hasAuth ? headers : { ...headers, Authorization: `Basic ${basic}` } };
}

async function readLimited(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    text += decoder.decode(value, { stream: true });
    if (bytes >= limit) {
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  return text + decoder.decode();
}

function describeFetchError(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return `no response within ${formatMs(timeoutMs)}`;
  if (err?.name === 'AbortError') return 'aborted';
  const cause = err?.cause;
  if (cause?.code === 'ECONNREFUSED') return `connection refused (${cause.message ?? cause.code})`;
  if (cause?.code || cause?.message)
    return `${cause.code ? cause.code + ': ' : ''}${cause.message ?? ''}`.trim();
  return err?.message ?? String(e);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function safeUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return reason === undefined ? 'aborted' : String(reason);
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${round3(ms / 1000)} s` : `${Math.round(ms)} ms`;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
