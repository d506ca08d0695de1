import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { Queue } from 'bullmq';
import { startService, type TestService } from '../support/service.ts';
import { dirtyJpeg } from '../support/fixtures.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

let svc: TestService;
let queue: Queue;

before(async () => {
  // No worker: whatever is queued stays visible to the test.
  svc = await startService({ worker: false, env: { MAX_FILE_BYTES: '200000', MAX_TIP_BYTES: '300000', MAX_FILES: '3' } });
  queue = new Queue('tips', { connection: { host: '127.0.0.1', port: svc.redis.port } });
});
after(async () => {
  await queue.close();
  await svc.stop();
});

/** A fresh folder in RAM for the test's own files, removed after it. */
function srcDir(t: TestContext): string {
  const dir = tempDir('buzon-src-', '/dev/shm');
  t.after(() => removeDirs(dir));
  return dir;
}

async function nothingKept(): Promise<void> {
  assert.deepEqual(readdirSync(join(svc.config.UPLOADS_DIR, 'tips')), [], 'a tip reached the vault');
  assert.deepEqual(readdirSync(join(svc.config.UPLOADS_DIR, '.drafts')), [], 'a draft was left');
  assert.deepEqual(readdirSync(svc.config.SCRATCH_DIR), [], 'plaintext was left in scratch');
  const counts = await queue.getJobCounts();
  assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), 0, 'a job was queued');
}

test('an empty submission gets 400 with a message that says what to do, in JSON and in HTML', async () => {
  const json = await request(svc.intake.app).post('/tips').set('Accept', 'application/json').field('note', '   ').expect(400);
  assert.equal(json.body.error.code, 'empty_tip');
  assert.match(json.body.error.message, /Escribe una nota/);
  const html = await request(svc.intake.app).post('/tips?lang=en').field('note', '').expect(400);
  assert.match(html.text, /Write a note, add a link or choose a file/);
  await nothingKept();
});

test('an over-size file gets 413, and nothing of it is kept', async () => {
  const res = await request(svc.intake.app)
    .post('/tips?lang=en')
    .set('Accept', 'application/json')
    .field('note', 'big file')
    .attach('files', Buffer.alloc(250_000, 7), 'big.jpg')
    .expect(413);
  assert.equal(res.body.error.code, 'file_too_large');
  assert.match(res.body.error.message, /big\.jpg/);
  await nothingKept();
});

test('files that together pass the tip limit get 413', async () => {
  const res = await request(svc.intake.app)
    .post('/tips')
    .set('Accept', 'application/json')
    .attach('files', Buffer.alloc(150_000, 1), 'a.bin')
    .attach('files', Buffer.alloc(150_000, 2), 'b.bin')
    .attach('files', Buffer.alloc(150_000, 3), 'c.bin')
    .expect(413);
  assert.equal(res.body.error.code, 'tip_too_large');
  await nothingKept();
});

test('more files than allowed get 413', async () => {
  let r = request(svc.intake.app).post('/tips').set('Accept', 'application/json');
  for (let i = 0; i < 5; i++) r = r.attach('files', Buffer.from('x'), `f${i}.txt`);
  const res = await r.expect(413);
  assert.equal(res.body.error.code, 'too_many_files');
  await nothingKept();
});

test('an unsupported type gets 415 naming the file, and nothing is queued even alongside a good photo', async (t) => {
  const photo = await dirtyJpeg(srcDir(t));
  const res = await request(svc.intake.app)
    .post('/tips?lang=en')
    .set('Accept', 'application/json')
    .field('note', 'with a program')
    .attach('files', photo)
    .attach('files', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.alloc(200)]), 'vacaciones.jpg')
    .expect(415);
  assert.equal(res.body.error.code, 'unsupported_type');
  assert.match(res.body.error.message, /vacaciones\.jpg/);
  await nothingKept();
});

test('plain text with a photo name is a MIME lie and gets 415', async () => {
  const res = await request(svc.intake.app)
    .post('/tips')
    .set('Accept', 'application/json')
    .attach('files', Buffer.from('just some text, not a photo'), { filename: 'photo.jpg', contentType: 'image/jpeg' })
    .expect(415);
  assert.equal(res.body.error.code, 'unsupported_type');
  await nothingKept();
});

test('a zero-byte file gets 400 naming it', async () => {
  const res = await request(svc.intake.app)
    .post('/tips')
    .set('Accept', 'application/json')
    .attach('files', Buffer.alloc(0), 'vacio.jpg')
    .expect(400);
  assert.equal(res.body.error.code, 'empty_file');
  await nothingKept();
});

test('a request that is not a form gets 400', async () => {
  const res = await request(svc.intake.app).post('/tips').set('Accept', 'application/json').set('Content-Type', 'text/plain').send('hello').expect(400);
  assert.equal(res.body.error.code, 'bad_form');
  await nothingKept();
});

test('a truncated JPEG is refused with 422 and nothing is kept', async (t) => {
  const photo = await dirtyJpeg(srcDir(t), 'whole.jpg');
  const { readFileSync } = await import('node:fs');
  const bytes = readFileSync(photo);
  const res = await request(svc.intake.app)
    .post('/tips')
    .set('Accept', 'application/json')
    .attach('files', bytes.subarray(0, Math.floor(bytes.length / 2)), 'cut.jpg')
    .expect(422);
  assert.equal(res.body.error.code, 'cleaning_failed');
  await nothingKept();
});

test('an unknown page gets 404 in the tipster\'s language', async () => {
  const res = await request(svc.intake.app).get('/admin').set('Accept-Language', 'en-US,en;q=0.9').expect(404);
  assert.match(res.text, /This page does not exist/);
});
