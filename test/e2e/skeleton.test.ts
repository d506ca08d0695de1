import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { startService, type TestService } from '../support/service.ts';
import { makeEditor, gpgDecrypt, type GpgEditor } from '../support/gpg.ts';
import { dirtyJpeg, exifTags } from '../support/fixtures.ts';
import { waitForInbox } from '../support/wait.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

let svc: TestService;
let rsa: GpgEditor;
let cv: GpgEditor;
const work = tempDir('buzon-skel-');

before(async () => {
  rsa = makeEditor('rsa3072');
  cv = makeEditor('cv25519');
  svc = await startService({ editors: [rsa.publicKey, cv.publicKey] });
});
after(async () => {
  await svc.stop();
  removeDirs(work, rsa.home, cv.home);
});

test('a note, two links and a GPS-tagged JPEG reach the inbox, open in gpg for every editor, and the photo has no GPS, Make or Model', async () => {
  const photo = await dirtyJpeg(work);
  const res = await request(svc.intake.app)
    .post('/tips')
    .set('Accept', 'application/json')
    .field('note', 'La camioneta blanca pasa cada martes.')
    .field('links', 'https://example.org/a\nhttps://example.org/b')
    .attach('files', photo)
    .expect(201);
  assert.match(res.body.receipt, /^\d{4}-\d{4}-\d{4}-\d{4}$/);
  assert.equal(res.body.files, 1);

  const [tip] = await waitForInbox(svc.config.INBOX_DIR);
  assert.deepEqual(readdirSync(tip!).sort(), ['file-1.pgp', 'manifest.json.pgp']);
  for (const editor of [rsa, cv]) {
    const manifest = JSON.parse(gpgDecrypt(editor, join(tip!, 'manifest.json.pgp')).toString());
    assert.equal(manifest.note, 'La camioneta blanca pasa cada martes.');
    assert.deepEqual(manifest.links, ['https://example.org/a', 'https://example.org/b']);
    assert.match(manifest.receivedAt, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(manifest.receipt, res.body.receipt);
    assert.equal(manifest.files.length, 1);
    assert.equal(manifest.files[0].kind, 'photo');
    assert.equal(manifest.files[0].name, 'photo-1.jpg');
    const clean = join(work, `clean-${editor.email}.jpg`);
    writeFileSync(clean, gpgDecrypt(editor, join(tip!, 'file-1.pgp')));
    assert.equal(manifest.files[0].size, readFileSync(clean).length);
    const tags = exifTags(clean);
    for (const key of Object.keys(tags)) assert.doesNotMatch(key, /GPS|Make|Model|Serial/, `${key} survived`);
    assert.equal(readFileSync(clean).includes('SERIAL-7731-ZX'), false);
    assert.equal(tags['File:ImageWidth'], 64);
  }
  // The vault copy is gone once delivered.
  assert.deepEqual(readdirSync(join(svc.config.UPLOADS_DIR, 'tips')), []);
});

test('the delivered folder names nothing about the tipster: no original filename anywhere in the inbox', async () => {
  const names = readdirSync(svc.config.INBOX_DIR, { recursive: true }).map(String);
  assert.ok(names.every((n) => !n.includes('IMG_2022')));
});

test('sharer ids are taken out of links before they are sealed, and a javascript: link stays inert text', async () => {
  const res = await request(svc.intake.app)
    .post('/tips')
    .set('Accept', 'application/json')
    .field('links', 'https://www.youtube.com/watch?v=dQw4w9WgXcQ&si=SHARERID123&t=42\njavascript:alert(1)\nvi el video en el canal de Juan')
    .expect(201);
  assert.equal(res.body.files, 0);
  const tips = await waitForInbox(svc.config.INBOX_DIR, 2);
  const manifests = tips.map((t) => JSON.parse(gpgDecrypt(cv, join(t, 'manifest.json.pgp')).toString()));
  const m = manifests.find((x) => x.files.length === 0)!;
  assert.equal(m.links[0], 'https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42');
  assert.equal(m.links[1], 'javascript:alert(1)');
  assert.equal(m.links[2], 'vi el video en el canal de Juan');
  assert.equal(m.linksRemoved.si, 1);
  assert.ok(!JSON.stringify(m).includes('SHARERID123'));
});
