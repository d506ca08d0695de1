/**
 * Privacy proofs: no client address anywhere (logs, vault, Redis), no cookie on any route, no note,
 * file name or content type in the logs, and no uploaded text echoed unescaped into an error page.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { Redis } from 'ioredis';
import { startHostile, expectRefused, type Hostile } from './harness.ts';
import { ELF, realJpeg } from './craft.ts';
import { filesContaining } from '../support/search.ts';

const ADDRESS = '198.51.100.23';
let h: Hostile;
let jpeg: Buffer;
before(async () => {
  h = await startHostile({ MAX_FILE_BYTES: String(512 * 1024) });
  jpeg = await realJpeg();
});
after(async () => h.stop());

/** Every header a proxy might use to pass the tipster's address on. */
function withAddress(r: request.Test): request.Test {
  return r.set('X-Forwarded-For', `${ADDRESS}, 10.0.0.1`).set('X-Real-IP', ADDRESS).set('Forwarded', `for=${ADDRESS};proto=https`)
    .set('CF-Connecting-IP', ADDRESS).set('True-Client-IP', ADDRESS);
}

async function flushRedis(): Promise<void> {
  const r = new Redis(h.svc.redis.url);
  await r.bgrewriteaof();
  await sleep(500);
  await r.save();
  r.disconnect();
}

test('a client address sent in X-Forwarded-For and friends is in no log line, vault byte or Redis byte, accepted or refused', async () => {
  const app = h.svc.intake.app;
  await withAddress(request(app).post('/tips').set('Accept', 'application/json')).field('note', 'con foto').attach('files', jpeg, 'a.jpg').expect(201);
  await withAddress(request(app).post('/tips')).attach('files', ELF, 'b.jpg').expect(415);
  await withAddress(request(app).post('/tips')).attach('files', jpeg.subarray(0, 100), 'c.jpg').expect(422);
  await withAddress(request(app).post('/tips')).attach('files', Buffer.alloc(600 * 1024, 1), 'd.jpg').expect(413);
  await withAddress(request(app).get('/nope')).expect(404);
  await withAddress(request(app).get('/')).expect(200);
  await flushRedis();
  for (const needle of [ADDRESS, '198.51.100', '::ffff:127.0.0.1']) {
    assert.equal(h.svc.logs.join('').includes(needle), false, `${needle} in the logs`);
    for (const dir of [h.svc.config.UPLOADS_DIR, h.svc.redis.dir, h.svc.config.SCRATCH_DIR]) {
      assert.deepEqual(filesContaining(dir, needle), [], `${needle} found in ${dir}`);
    }
  }
  assert.ok(h.svc.logs.some((l) => l.includes('tip accepted')), 'logs were captured');
  await h.stillUp();
});

test('no route sets a cookie: pages, assets, health, challenge, uploads, accepted and refused tips, 404', async () => {
  const app = h.svc.intake.app;
  const responses = await Promise.all([
    request(app).get('/'), request(app).get('/?lang=en'), request(app).get('/brand.css'), request(app).get('/static/buzon.css'),
    request(app).get('/static/buzon.js'), request(app).get('/favicon.ico'), request(app).get('/healthz'), request(app).get('/readyz'),
    request(app).get('/altcha/challenge'), request(app).options('/uploads'), request(app).post('/uploads'),
    request(app).head('/uploads/nothing'), request(app).get('/no-such-page'),
    request(app).post('/tips').field('note', ''), request(app).post('/tips').attach('files', ELF, 'x.jpg'),
  ]);
  responses.push(await request(app).post('/tips').field('note', 'una galleta'));
  responses.forEach((r, i) => assert.equal(r.headers['set-cookie'], undefined, `Set-Cookie on request #${i + 1} (status ${r.status})`));
  assert.ok(responses.some((r) => r.status === 201));
  await h.stillUp();
});

test('logs carry no note, no link, no file name and no content type, for accepted and refused tips', async () => {
  const mark = randomBytes(6).toString('hex');
  const note = `NOTE-${mark}`;
  const link = `https://example.org/LINK-${mark}`;
  const names = [`PHOTO-${mark}.jpg`, `EXE-${mark}.jpg`, `CUT-${mark}.jpg`, `BIG-${mark}.jpg`];
  const ct = `image/x-ct-${mark}`;
  const app = h.svc.intake.app;
  const start = h.svc.logs.length;
  await request(app).post('/tips').field('note', note).field('links', link).attach('files', jpeg, { filename: names[0]!, contentType: ct }).expect(201);
  await request(app).post('/tips').field('note', note).attach('files', ELF, { filename: names[1]!, contentType: ct }).expect(415);
  await request(app).post('/tips').field('note', note).attach('files', jpeg.subarray(0, 200), { filename: names[2]!, contentType: ct }).expect(422);
  await request(app).post('/tips').field('note', note).attach('files', Buffer.alloc(600 * 1024, 7), { filename: names[3]!, contentType: ct }).expect(413);
  const logs = h.svc.logs.slice(start).join('');
  assert.ok(logs.length > 0, 'the tips were logged');
  for (const needle of [mark, 'image/jpeg', 'image/', 'application/x-elf', '"jpg"', 'elf']) {
    assert.equal(logs.includes(needle), false, `${needle} in the logs:\n${logs}`);
  }
  await h.stillUp();
});

test('a file named <script>alert(1)</script>.exe comes back escaped in the HTML error page', async () => {
  const name = '<script>alert(1)</script>.exe';
  // The multipart parser keeps only what follows the last '/', as for any path: «script>.exe».
  const m = await expectRefused(h, { status: 415, code: 'unsupported_type' }, async () =>
    request(h.svc.intake.app).post('/tips').set('Accept', 'application/json').attach('files', ELF, name));
  assert.match(m, /«script>\.exe»/);
  const html = await request(h.svc.intake.app).post('/tips').attach('files', ELF, name).expect(415);
  assert.match(String(html.headers['content-type']), /^text\/html/);
  assert.doesNotMatch(html.text, /<script>alert|script>\.exe/);
  assert.match(html.text, /«script&#62;\.exe»/);
  await h.nothingKept();
  await h.stillUp();
});

test('a file named <svg onload=alert(1)>.exe comes back whole and escaped in the HTML error page', async () => {
  const html = await request(h.svc.intake.app).post('/tips?lang=en').attach('files', ELF, '<svg onload=alert(1)>.exe').expect(415);
  assert.doesNotMatch(html.text, /<svg onload/);
  assert.match(html.text, /&#60;svg onload=alert\(1\)&#62;\.exe/);
  await h.nothingKept();
  await h.stillUp();
});

test('a note and links that close the textarea and open a script come back escaped in the re-rendered form', async () => {
  const note = '</textarea><script>alert(2)</script><textarea>';
  const links = '"><img src=x onerror=alert(3)>\njavascript:alert(4)';
  const html = await request(h.svc.intake.app).post('/tips').field('note', note).field('links', links).attach('files', ELF, 'z.jpg').expect(415);
  assert.doesNotMatch(html.text, /<script>alert|<img src=x|<\/textarea><script/);
  assert.match(html.text, /&#60;\/textarea&#62;&#60;script&#62;alert\(2\)/);
  assert.match(html.text, /&#34;&#62;&#60;img src=x onerror=alert\(3\)&#62;/);
  await h.nothingKept();
  await h.stillUp();
});

test('a file name with HTML in a 413 refusal comes back escaped, and the page forbids inline script', async () => {
  const html = await request(h.svc.intake.app).post('/tips').attach('files', Buffer.alloc(600 * 1024, 9), '<img src=x onerror=alert(5)>.jpg').expect(413);
  assert.doesNotMatch(html.text, /<img src=x/);
  assert.match(html.text, /&#60;img src=x onerror=alert\(5\)&#62;\.jpg/);
  assert.match(String(html.headers['content-security-policy']), /script-src 'self'/);
  await h.nothingKept();
  await h.stillUp();
});

test('a path with a script is not echoed in the 404 page', async () => {
  const res = await request(h.svc.intake.app).get('/%3Cscript%3Ealert(6)%3C/script%3E').expect(404);
  assert.doesNotMatch(res.text, /alert\(6\)/);
  await h.stillUp();
});
