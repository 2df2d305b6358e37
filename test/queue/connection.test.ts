// Queue URLs: parsing redis:// and rediss:// into connection options, and keeping the password out of everything shown.
import { describe, expect, it } from 'vitest';
import { parseQueueUrl, QueueError, redactSecrets, redactUrl, redactUrlsIn } from '../../src/queue/connection.js';

describe('parseQueueUrl', () => {
  it('reads host, port, db, user and password; defaults port 6379 and db 0', () => {
    expect(parseQueueUrl('redis://example.org').redis).toMatchObject({ host: 'example.org', port: 6379, db: 0 });
    const t = parseQueueUrl('redis://alice:s3cr%40t@10.0.0.5:6380/2');
    expect(t.redis).toMatchObject({ host: '10.0.0.5', port: 6380, db: 2, username: 'alice', password: 's3cr@t' });
    expect(t.redis.tls).toBeUndefined();
    expect(t.shown).toBe('redis://alice:***@10.0.0.5:6380/2');
    expect(t.secret).toBe('s3cr@t');
  });

  it('turns on TLS for rediss:// with the host as the certificate name', () => {
    const t = parseQueueUrl('rediss://:pw@cache.example.org:6390');
    expect(t.redis.tls).toEqual({ servername: 'cache.example.org' });
    expect(t.redis.password).toBe('pw');
    expect(t.shown).toBe('rediss://:***@cache.example.org:6390');
  });

  it('rejects other schemes, missing hosts and bad db numbers without echoing the password', () => {
    for (const bad of ['http://:hunter2@host', 'redis://:hunter2@host/x', 'not a url :hunter2@', 'redis://:hunter2@']) {
      let err: unknown;
      try {
        parseQueueUrl(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(QueueError);
      expect((err as Error).message).not.toContain('hunter2');
      expect((err as Error).message).toMatch(/redis:\/\//);
    }
  });
});

describe('redaction', () => {
  it('masks the password in URLs, in text around URLs and wherever the secret appears', () => {
    expect(redactUrl('redis://:pw@h:1')).toBe('redis://:***@h:1');
    expect(redactUrl('redis://h:1')).toBe('redis://h:1');
    expect(redactUrl('rediss://token@h')).toBe('rediss://***@h');
    expect(redactUrlsIn("bnlab study --queue redis://u:p%2Fw@h:6379/1 --tiny")).toBe('bnlab study --queue redis://u:***@h:6379/1 --tiny');
    expect(redactSecrets('AUTH p/w failed (p%2Fw)', ['p/w'])).toBe('AUTH *** failed (***)');
  });
});
