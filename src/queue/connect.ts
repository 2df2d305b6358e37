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

/** The error that ends a command whose login Redis refused (password scrubbed). */
export function loginError(target: QueueTarget, e: Error): QueueError {
  return new QueueError(`${target.shown}: Redis refused the login (${redactSecrets(e.message, [target.secret])}); check the password in --queue`);
}
