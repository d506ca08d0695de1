import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { Redis } from 'ioredis';
import { startService } from '../support/service.ts';
import { waitForInbox } from '../support/wait.ts';
import { filesContaining } from '../support/search.ts';
import { eventsOf } from '../../workers/editorial.ts';

// Whoever gets into Redis (or seizes its files) must learn no more than how many tips are waiting.
// BullMQ also keeps a stream of every job's steps, 10,000 by default, each entry named by its
// millisecond: tip ids and exact arrival times, long after the jobs themselves are gone.

/** Every value Redis holds under `key`, as text, whatever its type. */
async function contents(r: Redis, key: string): Promise<string> {
  switch (await r.type(key)) {
    case 'string': return (await r.get(key)) ?? '';
    case 'hash': return JSON.stringify(await r.hgetall(key));
    case 'list': return JSON.stringify(await r.lrange(key, 0, -1));
    case 'set': return JSON.stringify(await r.smembers(key));
    case 'zset': return JSON.stringify(await r.zrange(key, '0', '-1', 'WITHSCORES'));
    case 'stream': return JSON.stringify(await r.xrange(key, '-', '+'));
    default: return '';
  }
}

test('once tips are delivered, Redis names none of them and keeps no stream of when they came, in memory or, once rewritten, on disk', async (t) => {
  const svc = await startService();
  t.after(() => svc.stop());
  for (let i = 0; i < 3; i++) {
    await request(svc.intake.app).post('/tips').set('Accept', 'application/json').field('note', `nota ${i}`).expect(201);
  }
  const tipIds = (await waitForInbox(svc.config.INBOX_DIR, 3)).map((p) => basename(p));

  const r = new Redis(svc.redis.url);
  t.after(() => r.disconnect());
  const events = 'bull:tips:events';
  // The worker deletes the stream within a second of a delivery, which follows the inbox by a
  // moment: waited for, with a deadline, rather than timed. Deleted, not trimmed: an empty stream
  // still keeps its last entry's id, a time to the millisecond.
  for (let i = 0; i < 100 && (await r.exists(events)) === 1; i++) await sleep(100);
  assert.equal(await r.exists(events), 0, 'the events stream is still there');

  const namesATip = async () => {
    for (const key of await r.keys('*')) {
      const text = key + (await contents(r, key));
      for (const id of tipIds) if (text.includes(id)) return key;
    }
    return undefined;
  };
  assert.equal(await namesATip(), undefined);

  // A worker that stops right after a delivery does not leave that delivery's events behind.
  await request(svc.intake.app).post('/tips').set('Accept', 'application/json').field('note', 'la última').expect(201);
  tipIds.splice(0, tipIds.length, ...(await waitForInbox(svc.config.INBOX_DIR, 4)).map((p) => basename(p)));
  const worker = svc.worker!;
  await worker.close();
  await eventsOf.get(worker)!.afterClose(svc.redis.url);
  assert.equal(await r.exists(events), 0, "the last delivery's events outlived the worker");
  assert.equal(await namesATip(), undefined);

  // The append-only file holds past commands until Redis rewrites it (README, threat model); once
  // rewritten, it holds what is in memory, and so nothing of these tips.
  await r.bgrewriteaof();
  for (let i = 0; i < 100 && (await r.info('persistence')).includes('aof_rewrite_in_progress:1'); i++) await sleep(100);
  for (const id of tipIds) assert.deepEqual(filesContaining(svc.redis.dir, id), [], `${id} in Redis's files after a rewrite`);
});
