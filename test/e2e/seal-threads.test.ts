import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import sharp from 'sharp';
import { startService } from '../support/service.ts';
import { makeEditor, gpgDecrypt } from '../support/gpg.ts';
import { dirtyJpeg } from '../support/fixtures.ts';
import { waitForInbox } from '../support/wait.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

test('with SEAL_THREADS=1 a photo is sealed in a worker thread and still opens in gpg, cleaned', async (t) => {
  const editor = makeEditor('cv25519');
  const src = tempDir('buzon-src-', '/dev/shm');
  t.after(() => removeDirs(editor.home, src));
  const svc = await startService({ editors: [editor.publicKey], env: { SEAL_THREADS: '1' } });
  t.after(() => svc.stop());
  const root = svc.root;
  const photo = await dirtyJpeg(src);
  await request(svc.intake.app).post('/tips').set('Accept', 'application/json').field('note', 'hilos').attach('files', photo).expect(201);
  const [tip] = await waitForInbox(svc.config.INBOX_DIR);
  const out = join(root, 'photo.jpg');
  writeFileSync(out, gpgDecrypt(editor, join(tip!, 'file-1.pgp')));
  const meta = await sharp(out).metadata();
  assert.equal(meta.width, 64);
  assert.equal(meta.exif, undefined);
});
