import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { startService, testRoot } from '../support/service.ts';
import { makeEditor, gpgDecrypt } from '../support/gpg.ts';
import { waitForInbox } from '../support/wait.ts';
import { removeDirs } from '../support/cleanup.ts';

test('with Redis down, /readyz says 503, a tip sent then is kept in the vault outbox, and it is delivered once Redis is back', async (t) => {
  const editor = makeEditor('cv25519');
  t.after(() => removeDirs(editor.home));
  const svc = await startService({ editors: [editor.publicKey], env: { OUTBOX_SWEEP_SECONDS: '0.5' } });
  t.after(() => svc.stop());
  await request(svc.intake.app).get('/readyz').expect(200);

  await svc.redis.stop();
  const ready = await request(svc.intake.app).get('/readyz').expect(503);
  assert.equal(ready.body.redis, false);

  const res = await request(svc.intake.app).post('/tips').set('Accept', 'application/json').field('note', 'sent while Redis was down').expect(201);
  assert.ok(res.body.receipt);
  // Durable on disk, as ciphertext only, waiting for the queue.
  assert.equal(readdirSync(join(svc.config.UPLOADS_DIR, 'tips')).length, 1);

  await svc.redis.restart();
  const [tip] = await waitForInbox(svc.config.INBOX_DIR, 1, 60_000);
  const manifest = JSON.parse(gpgDecrypt(editor, join(tip!, 'manifest.json.pgp')).toString());
  assert.equal(manifest.note, 'sent while Redis was down');
  await request(svc.intake.app).get('/readyz').expect(200);
});

test('a first start with an empty keys folder makes a demo key outside it and warns on /readyz and in the log', async () => {
  const root = testRoot();
  const demo = await startService({ root });
  try {
    const ready = await request(demo.intake.app).get('/readyz').expect(200);
    assert.equal(ready.body.demoKeys, true);
    assert.match(ready.body.warning, /DEMO KEYS/);
    assert.deepEqual(readdirSync(join(root, 'keys')), ['demo-editor.asc']);
    assert.deepEqual(readdirSync(join(root, 'demo-editor')).sort(), ['passphrase.txt', 'private.asc']);
    assert.ok(demo.logs.join('').includes('DEMO KEYS'));
    await request(demo.intake.app).post('/tips').set('Accept', 'application/json').field('note', 'demo tip').expect(201);
    await waitForInbox(demo.config.INBOX_DIR);
  } finally {
    await demo.stop();
  }
});
