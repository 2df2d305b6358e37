// BullMQ connection settings shared by the coordinator and the worker: wait through Redis restarts instead of failing.
import type { RedisOptions } from 'bullmq';
import { QueueError, redactSecrets, type QueueTarget } from './connection.js';

/**
 * ioredis options for a BullMQ client. `maxRetriesPerRequest: null` makes commands wait for a reconnect (BullMQ
 * requires it for workers), and the retry delay min(250 * attempt, 2000) ms brings clients back within about two
 * seconds of a restarted Redis.
 */
export function bullConnection(target: QueueTarget): RedisOptions {
  return {
    ...target.redis,
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(250 * times, 2000),
  };
}

/**
 * Logs connection errors at most once per `everyMs` (ioredis repeats them on each reconnect attempt), with
 * the password scrubbed from the text; a listener is also what keeps an 'error' event from crashing the process.
 */
export function connectionErrorLogger(target: QueueTarget, log: (line: string) => void, everyMs = 5000): (e: Error) => void {
  let last = 0;
  return (e: Error) => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    log(`queue ${target.shown}: ${redactSecrets(e.message, [target.secret])} (retrying)`);
  };
}

/** True for Redis refusing the login (wrong or missing password): waiting would not help, so it ends the command. */
export function isAuthError(e: Error): boolean {
  return /WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(e.message);
}

/** Node's codes for TLS failures that no reconnect can fix: a certificate not trusted, expired or for another host, or TLS to a plain port. */
const TLS_FATAL = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_REVOKED', 'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** True for a TLS failure that waiting would not fix (see TLS_FATAL). */
export function isTlsError(e: Error): boolean {
  return TLS_FATAL.has(String((e as NodeJS.ErrnoException).code ?? ''));
}

/** Connection errors that end a command at once instead of being retried: a refused login or a failed TLS check. */
export function isFatalConnectionError(e: Error): boolean {
  return isAuthError(e) || isTlsError(e);
}

/** The error that ends a command on a fatal connection error (password scrubbed), saying what to fix. */
export function fatalConnectionError(target: QueueTarget, e: Error): QueueError {
  const why = redactSecrets(e.message, [target.secret]);
  if (isTlsError(e)) {
    return new QueueError(`${target.shown}: the TLS connection failed: ${why}. If the server's certificate comes from a private ` +
      'certificate authority, point NODE_EXTRA_CA_CERTS at its PEM file; check the host name and that the port speaks TLS');
  }
  return new QueueError(`${target.shown}: Redis refused the login (${why}); check the password in --queue`);
}
