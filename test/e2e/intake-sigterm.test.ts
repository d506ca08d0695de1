/**
 * The intake on SIGTERM: it stops accepting, lets a tip already uploading finish and get its receipt,
 * and exits; past DRAIN_SECONDS it cuts what is left (never acknowledged, so nothing is lost).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRedis } from '../support/redis.ts';
import { freePort } from '../support/redis.ts';
import { Proc, httpReady } from '../support/proc-service.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

const BOUNDARY = 'buzonsigterm';

/** An intake process on its own Redis and folders; close() stops both and removes the folders. */
async function rig(drainSeconds: number) {
  const root = tempDir('buzon-isig-');
  const redis = await startRedis(join(root, 'redis'));
  const port = await freePort();
  const env = {
    NODE_ENV: 'test', PORT: String(port), HOST: '127.0.0.1', REDIS_URL: redis.url, KEYS_DIR: join(root, 'keys'),
    DEMO_KEY_DIR: join(root, 'demo'), UPLOADS_DIR: join(root, 'uploads'), INBOX_DIR: join(root, 'inbox'),
    SCRATCH_DIR: tempDir('buzon-isig-', '/dev/shm'), DRAIN_SECONDS: String(drainSeconds), BARE_TIPS_PER_MINUTE: '1000',
  };
  const intake = new Proc({ name: 'intake', script: 'src/intake/main.ts', env, ready: httpReady(port), logFile: join(root, 'intake.log') });
  const close = async () => {
    await intake.close();
    await redis.stop();
    removeDirs(root, env.SCRATCH_DIR);
  };
  await intake.start().catch(async (e: unknown) => { await close(); throw e; });
  return { root, port, intake, env, close };
}

/** The gpg homes (seal-gpg.ts) in an intake's temp folder: `tmp` in its scratch (temp-in-scratch.ts). */
const gpgHomes = (scratch: string) => readdirSync(join(scratch, 'tmp')).filter((n) => n.startsWith('buzon-gnupg-'));

/** Starts a multipart upload and leaves it open: the test decides when to finish it. */
function openUpload(port: number): { req: ClientRequest; finish: () => void; response: Promise<IncomingMessage & { body: string }> } {
  const head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\nslow tip `;
  const tail = `still typing\r\n--${BOUNDARY}--\r\n`;
  const req = httpRequest({
    host: '127.0.0.1', port, method: 'POST', path: '/tips',
    headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`, 'Content-Length': Buffer.byteLength(head + tail), Accept: 'application/json' },
  });
  const response = new Promise<IncomingMessage & { body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(Object.assign(res, { body })));
    });
    req.on('error', reject);
  });
  req.write(head);
  return { req, finish: () => req.end(tail), response };
}

test('on SIGTERM the intake refuses new connections, finishes the tip in flight with a receipt, and exits 0', async () => {
  const r = await rig(20);
  try {
    const upload = openUpload(r.port);
    await sleep(300);
    const exit = r.intake.term(30_000);
    await sleep(300);
    await assert.rejects(fetch(`http://127.0.0.1:${r.port}/healthz`), 'a new connection is refused while draining');
    upload.finish();
    const res = await upload.response;
    assert.equal(res.statusCode, 201);
    assert.match(JSON.parse(res.body).receipt, /^\d{4}-/);
    const { code } = await exit;
    assert.equal(code, 0);
    assert.deepEqual(gpgHomes(r.env.SCRATCH_DIR), [], 'the intake removed its gpg home on the way out');
    assert.equal(readdirSync(join(r.root, 'uploads', 'tips')).length, 1, 'the acknowledged tip is in the vault, for the worker');
  } finally {
    await r.close();
  }
});

test('past DRAIN_SECONDS a stalled upload is cut without a receipt, the exit code says so, and nothing of it is kept', async () => {
  const r = await rig(1);
  try {
    const upload = openUpload(r.port);
    upload.response.catch(() => {});
    await sleep(300);
    const { code, ms } = await r.intake.term(20_000);
    assert.equal(code, 1);
    assert.ok(ms < 15_000);
    await assert.rejects(upload.response);
    assert.deepEqual(readdirSync(join(r.root, 'uploads', 'tips')), []);
    assert.deepEqual(gpgHomes(r.env.SCRATCH_DIR), [], 'the deadline exit removed its gpg home');
    // The next start sweeps whatever the cut upload left in scratch and drafts.
    await r.intake.start();
    assert.deepEqual(readdirSync(r.env.SCRATCH_DIR), ['tmp']);
    assert.deepEqual(readdirSync(join(r.root, 'uploads', '.drafts')), []);
    // A kill leaves the gpg home behind; the start after it removes it, and keeps its own.
    await r.intake.kill();
    const left = gpgHomes(r.env.SCRATCH_DIR);
    assert.equal(left.length, 1, 'a killed intake cannot remove its gpg home');
    await r.intake.start();
    const now = gpgHomes(r.env.SCRATCH_DIR);
    assert.equal(now.length, 1);
    assert.notEqual(now[0], left[0], 'the dead intake\'s home was swept');
  } finally {
    await r.close();
  }
});
