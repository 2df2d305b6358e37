// Redis connection strings for the queue: redis:// and rediss:// (TLS) URLs parsed into ioredis options, with the password redacted everywhere shown.
import type { RedisOptions } from 'bullmq';
import { BnlabError } from '../tensor/errors.js';

/** A queue that cannot be reached or used: names the (redacted) URL and what went wrong. */
export class QueueError extends BnlabError {}

/** What `--queue URL` names: where Redis is, how to log in, and a form of the URL safe to print. */
export interface QueueTarget {
  /** ioredis options (host, port, db, username, password, tls); never print these. */
  redis: RedisOptions;
  /** The URL with the password replaced by `***`: the only form that goes to logs, errors and results. */
  shown: string;
  /** The password, kept so that any message can be scrubbed of it (see redactSecrets). */
  secret?: string;
}

const PROTOCOLS = ['redis:', 'rediss:'];
const EXAMPLE = 'redis://[user:password@]host[:port][/db] or rediss://... for TLS';

/**
 * The URL with its password (and a password-like username with no password) replaced by `***`.
 * Works on text that does not parse as a URL too (the part between `://` and `@` is masked), so a
 * mistyped URL in an error message does not leak what it held.
 */
export function redactUrl(raw: string): string {
  const masked = raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@/i, (_, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon >= 0 ? `${scheme}${userinfo.slice(0, colon)}:***@` : `${scheme}***@`;
  });
  // Without a scheme there is no userinfo to find: mask any `:something@` as a password.
  return masked.replace(/:(?!\*\*\*@)[^:@/\s]+@/g, ':***@');
}

/** Replaces every occurrence of each secret (and its URL-encoded form) in `text` by `***`. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (!s) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('***');
  }
  return out;
}

/** Replaces any redis:// or rediss:// URL's credentials in a command line or message (for config.json, results.json, logs). */
export function redactUrlsIn(text: string): string {
  return text.replace(/rediss?:\/\/[^\s'"]*/gi, (m) => redactUrl(m));
}

/**
 * Parses `--queue URL`. `redis://host:6379` (port 6379 and db 0 by default), `redis://:pw@host`,
 * `redis://user:pw@host/2`, `rediss://...` (TLS, certificate checked against the host name).
 * Throws QueueError naming the redacted URL and the expected form.
 */
export function parseQueueUrl(raw: string): QueueTarget {
  const shown = redactUrl(raw.trim());
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new QueueError(`--queue: '${shown}' is not a URL (expected ${EXAMPLE})`);
  }
  if (!PROTOCOLS.includes(url.protocol)) throw new QueueError(`--queue: '${shown}' uses ${url.protocol} (expected ${EXAMPLE})`);
  if (!url.hostname) throw new QueueError(`--queue: '${shown}' names no host (expected ${EXAMPLE})`);
  const port = url.port === '' ? 6379 : Number(url.port);
  const dbPart = url.pathname.replace(/^\//, '');
  const db = dbPart === '' ? 0 : Number(dbPart);
  if (!Number.isInteger(db) || db < 0) throw new QueueError(`--queue: '${shown}': the database must be a number after the last '/', got '${dbPart}'`);
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const redis: RedisOptions = { host, port, db, username, password };
  if (url.protocol === 'rediss:') redis.tls = { servername: host };
  return { redis, shown, secret: password };
}
