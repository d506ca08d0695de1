/**
 * A refused tip comes back as the form, in the tipster's language, with the message at the field it
 * is about and everything typed kept (escaped, never echoed raw). Losing a long note to a validation
 * error is unforgivable.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { startService, type TestService } from '../support/service.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

let svc: TestService;
const work = tempDir('buzon-form-errors-');

before(async () => {
  svc = await startService({
    worker: false,
    env: { PARTIALS_DIR: join(work, 'partials'), MAX_NOTE_CHARS: '200', MAX_FILE_BYTES: String(64 * 1024), MAX_TIP_BYTES: String(128 * 1024) },
  });
});
after(async () => {
  await svc.stop();
  removeDirs(work);
});

/** The text of a textarea as the browser would show it. */
function textarea(html: string, id: string): string {
  const m = new RegExp(`<textarea id="${id}"[^>]*>([\\s\\S]*?)</textarea>`).exec(html);
  assert.ok(m, `no textarea #${id}`);
  return m[1]!.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
}

const HOSTILE = 'Nota con <script>alert(1)</script> y "comillas" & </textarea><b>escape</b>\nSegunda línea';

test('a note over the limit comes back typed, escaped, with the Spanish error tied to the note field', async () => {
  const note = HOSTILE + ' ' + 'x'.repeat(300);
  const res = await request(svc.intake.app).post('/tips').field('note', note).field('links', 'https://example.org/a').expect(413);
  assert.match(String(res.headers['content-type']), /text\/html/);
  assert.equal(textarea(res.text, 'note'), note.replace(/\r\n/g, '\n'));
  assert.equal(textarea(res.text, 'links'), 'https://example.org/a');
  assert.doesNotMatch(res.text, /<script>alert/);
  assert.doesNotMatch(res.text, /<b>escape/);
  assert.match(res.text, /<html lang="es">/);
  assert.match(res.text, /role="alert"/);
  assert.match(res.text, /<p class="field-error" id="note-error">La nota tiene más de 200 caracteres/);
  assert.match(res.text, /<textarea id="note" name="note" rows="8" aria-describedby="note-hint note-error" aria-invalid="true">/);
  assert.match(res.text, /<a href="#note">/, 'the summary links to the field');
});

test('a file over the limit, refused while it streams in, still gives back the note and links (English)', async () => {
  const big = join(work, 'video.mp4');
  writeFileSync(big, Buffer.alloc(100 * 1024, 7));
  const res = await request(svc.intake.app).post('/tips?lang=en')
    .field('note', HOSTILE).field('links', 'https://example.org/a\nhttps://example.org/b').attach('files', big).expect(413);
  assert.equal(textarea(res.text, 'note'), HOSTILE);
  assert.equal(textarea(res.text, 'links'), 'https://example.org/a\nhttps://example.org/b');
  assert.match(res.text, /<html lang="en">/);
  assert.match(res.text, /id="files-error">The file “video\.mp4” is larger than the limit/);
  assert.match(res.text, /<input id="files" name="files" type="file" multiple accept="[^"]*" aria-describedby="files-hint files-error" aria-invalid="true">/);
  assert.match(res.text, /files are not kept after an error: choose them again/);
});

test('a kind of file we do not take keeps the note and names the file at the files field', async () => {
  const txt = join(work, 'lista.txt');
  writeFileSync(txt, 'solo texto\n');
  const res = await request(svc.intake.app).post('/tips').field('note', 'Mi nota').attach('files', txt).expect(415);
  assert.equal(textarea(res.text, 'note'), 'Mi nota');
  assert.match(res.text, /id="files-error">No podemos recibir el archivo «lista\.txt»/);
});

test('too many links keeps the links and ties the error to the links field', async () => {
  const links = Array.from({ length: 101 }, (_, i) => `https://a.mx/${i}`).join('\n');
  const res = await request(svc.intake.app).post('/tips?lang=en').field('note', 'n').field('links', links).expect(413);
  assert.equal(textarea(res.text, 'links'), links);
  assert.match(res.text, /id="links-error">There are more than 100 links/);
});

test('an empty tip says so at the note, in Spanish by default', async () => {
  const res = await request(svc.intake.app).post('/tips').field('note', '   ').expect(400);
  assert.match(res.text, /id="note-error">No había nada que enviar/);
});

test('an upload id that does not exist (lost in a restart) says so plainly and keeps the note', async () => {
  const res = await request(svc.intake.app).post('/tips?lang=en').field('note', 'Mi nota').field('uploads', 'a'.repeat(32)).expect(410);
  assert.equal(textarea(res.text, 'note'), 'Mi nota');
  assert.match(res.text, /id="files-error">An upload was lost, maybe because our server restarted/);
});

test('a refusal about the note keeps finished uploads for the next attempt, so nothing is uploaded twice', async () => {
  const app = svc.intake.app;
  const { dirtyJpeg } = await import('../support/fixtures.ts');
  const { readFileSync } = await import('node:fs');
  const photo = readFileSync(await dirtyJpeg(work));
  const create = await request(app).post('/uploads').set('Tus-Resumable', '1.0.0').set('Upload-Length', String(photo.length)).expect(201);
  const id = String(create.headers.location).split('/').pop()!;
  await request(app).patch(`/uploads/${id}`).set('Tus-Resumable', '1.0.0').set('Upload-Offset', '0')
    .set('Content-Type', 'application/offset+octet-stream').send(photo).expect(204);
  const refused = await request(app).post('/tips?lang=en').field('note', 'y'.repeat(300)).field('uploads', id).expect(413);
  assert.match(refused.text, new RegExp(`<input type="hidden" name="uploads" value="${id}">`));
  assert.match(refused.text, /Files already uploaded and waiting to be sent with this tip: 1\./);
  const ok = await request(app).post('/tips').set('Accept', 'application/json').field('note', 'corta').field('uploads', id).expect(201);
  assert.equal(ok.body.files, 1);
  // Claimed once: the same id cannot make a second tip.
  await request(app).post('/tips').set('Accept', 'application/json').field('note', 'otra').field('uploads', id).expect(410);
});

test('JSON clients still get a code and a message, not the form', async () => {
  const res = await request(svc.intake.app).post('/tips').set('Accept', 'application/json').field('note', '').expect(400);
  assert.equal(res.body.error.code, 'empty_tip');
});
