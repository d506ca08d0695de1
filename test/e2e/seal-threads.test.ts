import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import sharp from 'sharp';
import { startService, type TestService } from '../support/service.ts';
import { makeEditor, writeKey, gpgDecrypt } from '../support/gpg.ts';
import { dirtyJpeg } from '../support/fixtures.ts';
import { waitForInbox } from '../support/wait.ts';

let svc: TestService | undefined;
after(async () => svc?.stop());

test('with SEAL_THREADS=1 a photo is sealed in a worker thread and still opens in gpg, cleaned', async () => {
  const editor = makeEditor('cv25519');
  const root = mkdtempSync(join(tmpdir(), 'buzon-test-'));
  mkdirSync(join(root, 'keys'));
  writeKey(join(root, 'keys'), 'ed.asc', editor.publicKey);
  svc = await startService({ root, env: { SEAL_THREADS: '1' } });
  const photo = await dirtyJpeg(mkdtempSync('/dev/shm/buzon-src-'));
  await request(svc.intake.app).post('/tips').set('Accept', 'application/json').field('note', 'hilos').attach('files', photo).expect(201);
  const [tip] = await waitForInbox(svc.config.INBOX_DIR);
  const out = join(root, 'photo.jpg');
  writeFileSync(out, gpgDecrypt(editor, join(tip!, 'file-1.pgp')));
  const meta = await sharp(out).metadata();
  assert.equal(meta.width, 64);
  assert.equal(meta.exif, undefined);
});
