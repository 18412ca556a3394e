/**
 * Webhook, ping and push URLs are bearer credentials: whoever knows a Slack incoming-webhook or a
 * healthchecks.io ping URL can post to it. So they are never printed whole. Messages name an
 * endpoint by its scheme and host, with the path (where the token lives), the query and any
 * user:password replaced by `***`; that still tells the operator WHICH endpoint failed.
 */

/** `https://hooks.slack.com/services/T0/B0/xyz` → `https://hooks.slack.com/***`. */
export function maskUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return maskUnparsable(url);
  }
  if (!u.host) return `${u.protocol}***`;
  const userinfo = u.username || u.password ? '***@' : '';
  const hasPath = u.pathname !== '' && u.pathname !== '/';
  const rest = hasPath || u.search || u.hash ? '/***' : '';
  return `${u.protocol}//${userinfo}${u.host}${rest}`;
}

/**
 * A value that is not a URL may be a token pasted on its own, so none of it is shown: only a
 * scheme-like prefix (`ftp:`) when there is one, which is what the user needs to spot the mistake.
 */
function maskUnparsable(value: string): string {
  const scheme = /^([a-z][a-z0-9+.-]{0,15}):/i.exec(value)?.[1];
  return scheme ? `${scheme}:*** (${value.length} characters)` : `*** (${value.length} characters)`;
}

/**
 * The parts of a URL to register with the logger's redactor, so a library error message that
 * quotes the URL is masked too. Short paths (`/hook`) are left out: registering them would mask
 * ordinary words everywhere, and dbdrill's own messages use {@link maskUrl} anyway.
 */
export function urlSecrets(url: string): string[] {
  const out = new Set<string>([url]);
  try {
    const u = new URL(url);
    out.add(u.href);
    if (u.password) out.add(decodeURIComponent(u.password));
    const pathAndQuery = u.pathname + u.search;
    if (pathAndQuery.length >= 8) out.add(pathAndQuery);
    if (u.search.length >= 8) out.add(u.search);
  } catch {
    /* not a URL: the whole value is the secret */
  }
  return [...out];
}

/**
 * fetch refuses URLs with credentials in them, yet `https://user:pass@pushgateway` is how people
 * write basic auth; the credentials move to an Authorization header.
 */
export function splitCredentials(url: string): { url: string; headers: Record<string, string> } {
  const u = new URL(url);
  if (!u.username && !u.password) return { url: u.href, headers: {} };
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  const token = Buffer.from(`${user}:${pass}`, 'utf8').toString('base64');
  return { url: u.href, headers: { authorization: `Basic ${token}` } };
}

/**
 * Slack incoming webhooks (and their GovSlack twin) take `{text, blocks}`; Slack's workflow
 * triggers (`/triggers/…`) take arbitrary variables, so they get the generic event instead.
 */
export function looksLikeSlack(url: string): boolean {
  try {
    const u = new URL(url);
    return /^hooks\.slack(-gov)?\.com$/i.test(u.hostname) && !u.pathname.startsWith('/triggers/');
  } catch {
    return false;
  }
}

/** Appends a path segment keeping the query (healthchecks.io's `?rid=` and `?create=` live there). */
export function appendPath(url: string, suffix: string): string {
  const u = new URL(url);
  u.pathname = u.pathname.replace(/\/+$/, '') + suffix;
  return u.href;
}
