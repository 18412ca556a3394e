/**
 * Dead-man pings in the healthchecks.io convention: `<url>/start` when a run begins, `<url>` when
 * it succeeds, `<url>/fail` with the reason in the body when it fails. The service alerts when the
 * success ping stops arriving, which is the one failure dbdrill cannot report itself: the backup
 * that never ran. The /start ping also lets the service measure run time and flag a hung run.
 */
import { appendPath, maskUrl } from './endpoint.js';
import { deliver, type Delivery, type DeliveryDeps, type DeliveryPolicy } from './http-delivery.js';

/** healthchecks.io keeps the first 100 KB of a ping body; the gist of a reason fits in 10. */
export const MAX_PING_BODY_BYTES = 10 * 1024;

export type PingKind = 'start' | 'success' | 'fail';

const SUFFIX: Record<PingKind, string> = { start: '/start', success: '', fail: '/fail' };

export async function ping(
  deps: DeliveryDeps,
  url: string,
  kind: PingKind,
  body: string,
  policy?: DeliveryPolicy,
): Promise<Delivery> {
  const label = maskUrl(url) + SUFFIX[kind];
  let target: string;
  try {
    target = appendPath(url, SUFFIX[kind]);
  } catch {
    return { ok: false, endpoint: label, attempts: 0, error: `${label}: not a usable URL` };
  }
  return deliver(
    deps,
    {
      method: 'POST',
      url: target,
      label,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: firstBytes(body, MAX_PING_BODY_BYTES),
    },
    policy,
  );
}

/** The first `max` bytes of UTF-8 text, cut at a character boundary. */
export function firstBytes(text: string, max: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  let end = max;
  // Back up over continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
