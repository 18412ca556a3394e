/**
 * Pushing to a Prometheus Pushgateway. Each (job, name) pair is its own grouping key
 * (`/metrics/job/<job>/name/<name>`), so backup, verify and drill never overwrite each other.
 * Within a group dbdrill POSTs rather than PUTs: PUT replaces the whole group, so a failed backup
 * would erase `dbdrill_last_success_timestamp_seconds` and the "no success for 26 h" alert would
 * see no series at all; POST replaces only the families pushed, and a failed run simply does not
 * push last-success (nor a number it did not measure).
 */
import { maskUrl } from './endpoint.js';
import { deliver, type Delivery, type DeliveryDeps, type DeliveryPolicy } from './http-delivery.js';
import type { Outcome } from './outcome.js';
import { outcomeSamples, renderExposition } from './prometheus-text.js';

export interface PushTarget {
  /** The Pushgateway's base URL, e.g. http://pushgateway:9091 (a path prefix is kept). */
  url: string;
  job: string;
  name: string;
}

/**
 * The grouping-key URL. Values outside the URL-safe set use the Pushgateway's base64 form
 * (`name@base64/<base64url>`), so a name with a slash cannot split the key.
 */
export function groupingUrl(target: PushTarget): string {
  const u = new URL(target.url);
  const segment = (label: string, value: string) =>
    /^[A-Za-z0-9._-]+$/.test(value)
      ? `${label}/${value}`
      : `${label}@base64/${Buffer.from(value, 'utf8').toString('base64url') || '='}`;
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/metrics/${segment('job', target.job)}/${segment('name', target.name)}`;
  return u.href;
}

export async function pushMetrics(
  deps: DeliveryDeps,
  target: PushTarget,
  outcome: Outcome,
  finishedAt: Date,
  policy?: DeliveryPolicy,
): Promise<Delivery> {
  // No job/name labels in the body: the grouping key adds them, and a conflicting body label is an error.
  const body = renderExposition(outcomeSamples(outcome, finishedAt, {}));
  const url = groupingUrl(target);
  const label = `${maskUrl(target.url)} (job ${target.job}, name ${target.name})`;
  return deliver(
    deps,
    { method: 'POST', url, label, headers: { 'content-type': 'text/plain; version=0.0.4' }, body },
    policy,
  );
}
