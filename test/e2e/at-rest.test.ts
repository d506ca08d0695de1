import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { Redis } from 'ioredis';
import { startService } from '../support/service.ts';
import { makeEditor, gpgDecrypt } from '../support/gpg.ts';
import { waitForInbox } from '../support/wait.ts';
import { filesContaining } from '../support/search.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

test('a unique marker in the note is nowhere at rest in plaintext: vault, inbox, Redis AOF/RDB, logs, temp folders', async (t) => {
  const since = Date.now() - 1000;
  const editor = makeEditor('cv25519');
  const photoDir = tempDir('buzon-src-', '/dev/shm');
  t.after(() => removeDirs(editor.home, photoDir));
  const svc = await startService({ editors: [editor.publicKey] });
  t.after(() => svc.stop());
  const root = svc.root;
  const marker = `MARKER-${randomBytes(12).toString('hex')}`;
  const linkMarker = `LINK${randomBytes(8).toString('hex')}`;
  const photoName = `IMG_${randomBytes(6).toString('hex')}.jpg`;
  const { dirtyJpeg } = await import('../support/fixtures.ts');
  const photo = await dirtyJpeg(photoDir, photoName);

  await request(svc.intake.app)
    .post('/tips')
    .set('Accept', 'application/json')
    .set('X-Forwarded-For', '203.0.113.77')
    .field('note', `Nota secreta ${marker}`)
    .field('links', `https://example.org/${linkMarker}`)
    .attach('files', photo)
    .expect(201);
  const [tip] = await waitForInbox(svc.config.INBOX_DIR);
  // The editors can read it…
  assert.match(gpgDecrypt(editor, join(tip!, 'manifest.json.pgp')).toString(), new RegExp(marker));

  // …and nothing else can. Make Redis write everything it has.
  const r = new Redis(svc.redis.url);
  await r.bgrewriteaof();
  await sleep(500);
  await r.save();
  r.disconnect();
  writeFileSync(join(root, 'logs.txt'), svc.logs.join(''));

  for (const needle of [marker, linkMarker, photoName, '203.0.113.77', 'SERIAL-7731-ZX']) {
    for (const dir of [svc.config.UPLOADS_DIR, svc.config.INBOX_DIR, svc.redis.dir, svc.config.SCRATCH_DIR]) {
      assert.deepEqual(filesContaining(dir, needle), [], `${needle} found in ${dir}`);
    }
    // tsx's compile cache holds our own test sources, where the fixture's constants are written.
    // Only values unique to this tip are searched for there: other tests running alongside plant
    // the same fixture serial in their own temp files.
    if (needle !== 'SERIAL-7731-ZX') {
      const leaks = filesContaining(tmpdir(), needle, since).filter((p) => !p.startsWith(photoDir) && !/\/tsx-\d+\//.test(p));
      assert.deepEqual(leaks, [], `${needle} in the OS temp folder`);
    }
    assert.equal(svc.logs.join('').includes(needle), false, `${needle} in the logs`);
  }
  // Neither Redis nor the logs learn what kind of file was sent.
  for (const needle of ['image/jpeg', 'jpg', 'photo']) {
    assert.deepEqual(filesContaining(svc.redis.dir, needle), [], `${needle} in Redis`);
    assert.equal(svc.logs.join('').includes(needle), false, `${needle} in the logs`);
  }
  assert.ok(svc.logs.length > 0, 'logs were captured');
});
