/**
 * Figure (d): the editorial worker (its own process) draining N queued note tips (default 10,000)
 * from a real vault into the inbox, against `redis-benchmark -t lpush,rpop` on the same machine.
 * The vault and queue are filled first with the worker stopped, so only the drain is timed.
 * Env: DRAIN_TIPS (default 10000), BENCH_RUNS (default 1).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as openpgp from 'openpgp';
import { readFileSync, readdirSync } from 'node:fs';
import { sealBytes } from '../src/crypto/seal.ts';
import { FsVault } from '../src/vault/fs-vault.ts';
import { openTipsQueue } from '../src/queue/tips.ts';
import { redisOptions } from '../src/redis.ts';
import { newTipId } from '../src/intake/receipt.ts';
import { startRedis } from '../test/support/redis.ts';
import { delivered, disposeEditors, fmt, killTree, makeEditors, removeDirs, report, runs, stats, tempDir, waitDelivered, startWorkerOnly } from './lib.ts';

const count = Number(process.env.DRAIN_TIPS ?? 10_000);
const n = runs(1);
const work = tempDir('buzon-bench-drain-');
const ed = makeEditors(work);
const keys = await Promise.all(readdirSync(ed.keysDir).map((f) => openpgp.readKey({ armoredKey: readFileSync(join(ed.keysDir, f), 'utf8') })));
const redis = await startRedis(join(work, 'redis'));
try {
  const rates: number[] = [];
  let peak = 0;
  for (let run = 0; run < n; run++) {
    const uploads = join(work, `uploads-${run}`);
    const vault = await new FsVault(uploads).init();
    const queue = openTipsQueue(redisOptions(redis.url));
    const sealed = await sealBytes(new TextEncoder().encode('{"version":1,"note":"bench"}'), keys, 'manifest.json');
    const jobs = [];
    for (let i = 0; i < count; i++) {
      const tipId = newTipId();
      const draft = await vault.begin(tipId);
      const f = await draft.put('manifest.json.pgp', Readable.from([sealed]));
      await draft.commit();
      jobs.push({ name: 'deliver', data: { tipId, files: [f] }, opts: { jobId: tipId } });
    }
    for (let i = 0; i < jobs.length; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
    await queue.close();
    const inbox = join(work, `inbox-${run}`);
    const t0 = performance.now();
    const worker = await startWorkerOnly({ REDIS_URL: redis.url, KEYS_DIR: ed.keysDir, UPLOADS_DIR: uploads, INBOX_DIR: inbox });
    await waitDelivered(inbox, count, 30 * 60_000);
    rates.push(count / ((performance.now() - t0) / 1000));
    peak = Math.max(peak, worker.peak());
    killTree(worker.pid);
    if (delivered(inbox).length !== count) throw new Error('wrong count delivered');
  }
  const out = execFileSync('redis-benchmark', ['-h', '127.0.0.1', '-p', String(redis.port), '-t', 'lpush,rpop', '-n', '100000', '-q']).toString();
  const ops = [...out.matchAll(/(LPUSH|RPOP)[^:]*:\s*([\d.]+) requests per second/g)].map((m) => `${m[1]} ${Number(m[2]).toFixed(0)}/s`);
  const r = stats(rates);
  console.log(`worker drain tips/s ${fmt(r, 0)} (${count} tips, includes process start); peak RSS ${peak.toFixed(0)} MiB; redis-benchmark ${ops.join(', ')}`);
  report(`worker drains ${count} note tips`, `${r.median.toFixed(0)} tips/s, worker peak ${peak.toFixed(0)} MiB`, `redis-benchmark ${ops.join(', ')}`, 'recorded against Redis');
} finally {
  await redis.stop();
  disposeEditors(ed);
  removeDirs(work);
}
