/**
 * One HTTP request to an endpoint dbdrill does not own (a chat webhook, a ping service, a
 * Pushgateway), made fail-soft: whatever the endpoint does (refuses the connection, hangs, answers
 * 5xx) the caller gets a Delivery back, never an exception, because a monitoring hiccup must not
 * turn a good backup red. Transient failures are retried a few times with a short backoff.
 */
import { messageOf } from '../errors.js';
import { DBDRILL_VERSION } from '../version.js';
import { maskUrl, splitCredentials } from './endpoint.js';

/** The slice of `fetch` dbdrill uses; global fetch fits it, tests may pass their own. */
export type FetchPort = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal },
) => Promise<{ status: number; text(): Promise<string> }>;

export interface DeliveryPolicy {
  /** Per attempt, covering the response body too. */
  timeoutMs: number;
  /** Extra attempts after the first, on a network error, a timeout, 429 or 5xx. */
  retries: number;
  /** Wait before retry n (0-based) is backoffMs * 2^n. */
  backoffMs: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = { timeoutMs: 10_000, retries: 2, backoffMs: 500 };

export interface HttpRequest {
  method: 'POST' | 'PUT' | 'GET';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** How messages name the endpoint; default: {@link maskUrl} of url. */
  label?: string;
}

export interface Delivery {
  ok: boolean;
  /** The endpoint as messages name it (secrets masked). */
  endpoint: string;
  status?: number;
  attempts: number;
  /** Why it failed, in words, with the endpoint masked. */
  error?: string;
}

export interface DeliveryDeps {
  fetch: FetchPort;
  /** Waits between retries; tests pass one that does not wait. */
  sleep: (ms: number) => Promise<void>;
  /** Applied to anything from the response or the error before it reaches a message. */
  redact: (text: string) => string;
}

export const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const MAX_ERROR_BODY = 200;

export async function deliver(
  deps: DeliveryDeps,
  request: HttpRequest,
  policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY,
): Promise<Delivery> {
  const endpoint = request.label ?? maskUrl(request.url);
  let target: { url: string; headers: Record<string, string> };
  try {
    target = splitCredentials(request.url);
  } catch (e) {
    return { ok: false, endpoint, attempts: 0, error: `${endpoint}: not a usable URL (${messageOf(e)})` };
  }
  const headers = { 'user-agent': `dbdrill/${DBDRILL_VERSION}`, ...request.headers, ...target.headers };
  const scrub = (text: string) => deps.redact(text.split(request.url).join(endpoint)).replace(/\s+/g, ' ');
  let last: Delivery = { ok: false, endpoint, attempts: 0 };
  for (let attempt = 1; attempt <= policy.retries + 1; attempt++) {
    if (attempt > 1) await deps.sleep(policy.backoffMs * 2 ** (attempt - 2));
    const result = await attemptOnce(deps.fetch, target.url, request, headers, policy.timeoutMs);
    if ('status' in result && result.status >= 200 && result.status < 300) {
      return { ok: true, endpoint, status: result.status, attempts: attempt };
    }
    if ('status' in result) {
      const snippet = scrub(result.body).trim().slice(0, MAX_ERROR_BODY);
      last = {
        ok: false,
        endpoint,
        status: result.status,
        attempts: attempt,
        error: `${endpoint} answered HTTP ${result.status}${snippet ? `: ${snippet}` : ''}`,
      };
      if (result.status !== 429 && result.status < 500) return last;
    } else {
      last = { ok: false, endpoint, attempts: attempt, error: `${endpoint}: ${scrub(result.error)}` };
    }
  }
  if (last.attempts > 1) last.error += ` (${last.attempts} attempts)`;
  return last;
}

async function attemptOnce(
  fetch: FetchPort,
  url: string,
  request: HttpRequest,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number; body: string } | { error: string }> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  // The race makes the timeout hold even for a fetch that ignores its signal.
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new TimeoutError(`no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
  });
  try {
    const exchange = (async () => {
      const res = await fetch(url, {
        method: request.method,
        headers,
        body: request.body,
        signal: controller.signal,
      });
      return { status: res.status, body: await res.text() };
    })();
    exchange.catch(() => undefined); // when the timeout wins, the aborted exchange rejects unobserved
    return await Promise.race([exchange, timeout]);
  } catch (e) {
    return { error: describeFetchError(e) };
  } finally {
    clearTimeout(timer);
  }
}

class TimeoutError extends Error {}

/** undici says only "fetch failed"; the useful part (ECONNREFUSED, ENOTFOUND) is in the cause. */
function describeFetchError(e: unknown): string {
  if (e instanceof TimeoutError) return e.message;
  const cause = (e as { cause?: unknown }).cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const causeText = cause ? messageOf(cause) : '';
  if (typeof code === 'string')
    return `${messageOf(e)} (${code}${causeText && !causeText.includes(code) ? `: ${causeText}` : ''})`;
  return causeText ? `${messageOf(e)} (${causeText})` : messageOf(e);
}
