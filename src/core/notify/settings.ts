/**
 * What a run is to announce and where: the parsed notify options (the option table parses them in
 * options/notify-options.ts), kept here so the notify module depends on no option code.
 */
import { urlSecrets } from './endpoint.js';
import type { DeliveryPolicy } from './http-delivery.js';

export type NotifyOn = 'failure' | 'always' | 'never';
export type NotifyFormat = 'slack' | 'json';

export interface NotifyTarget {
  url: string;
  format: NotifyFormat;
}

export interface NotifySettings {
  notifyUrls: NotifyTarget[];
  notifyOn: NotifyOn;
  pingUrl?: string;
  /** Absolute path. */
  metricsFile?: string;
  pushgatewayUrl?: string;
  /** Prefix of the job label; `<metricsJob>_<command>` is the label. */
  metricsJob: string;
  /** Timeouts and retries; default DEFAULT_DELIVERY_POLICY. Not a user option: tests tighten it. */
  policy?: DeliveryPolicy;
}

/** True when nothing is configured, so adapters can skip the whole module cheaply. */
export function notifyDisabled(s: NotifySettings): boolean {
  return !s.notifyUrls.length && !s.pingUrl && !s.metricsFile && !s.pushgatewayUrl;
}

/**
 * Registers the secret parts of every configured URL with the logger, so nothing later (a library
 * error, a verbose log line) prints a webhook token. Call once after parsing; announce calls it too.
 */
export function registerNotifySecrets(logger: { addSecret(v: string): void }, s: NotifySettings): void {
  const urls = [...s.notifyUrls.map((t) => t.url), s.pingUrl, s.pushgatewayUrl];
  for (const url of urls) if (url) for (const secret of urlSecrets(url)) logger.addSecret(secret);
}
