/**
 * Bad text and names: invalid UTF-8, path tricks, NUL and bidi overrides, names of 10,000 characters.
 * A file name is only ever shown back to the tipster in a refusal; it must come back harmless, short,
 * and never be used as a path. The note is re-rendered as valid UTF-8.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import request from 'supertest';
import { startHostile, expectRefused, expectCleaned, postTip, type Hostile, type Lang } from './harness.ts';
import { ELF, multipart, type RawPart } from './craft.ts';

let h: Hostile;
before(async () => { h = await startHostile(); });
after(async () => h.stop());

function sendRaw(parts: RawPart[], lang: Lang = 'es') {
  const { body, contentType } = multipart(parts);
  return async () => postTip(h, lang).set('Content-Type', contentType).send(body);
}
/** An ELF whose name is sent RFC 5987-encoded (filename*=UTF-8''…), so any byte can be in it. */
function sendEncodedName(encoded: string, lang: Lang = 'es') {
  const boundary = 'b5987';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename*=UTF-8''${encoded}\r\n\r\n`);
  const body = Buffer.concat([head, ELF, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return async () => postTip(h, lang).set('Content-Type', `multipart/form-data; boundary=${boundary}`).send(body);
}
const INVALID_UTF8 = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc]);
const BIDI_OR_CONTROL = /[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;

/** Refuses an ELF under `filename` with 415 and returns the message, which names the file. */
async function refusedName(filename: Buffer | string, lang: Lang = 'es'): Promise<string> {
  return expectRefused(h, { status: 415, code: 'unsupported_type', lang }, sendRaw([{ name: 'files', filename, data: ELF }], lang));
}

test('a note of invalid UTF-8 is accepted, its bad bytes replaced, not refused or crashed on', async () => {
  await expectCleaned(h, sendRaw([{ name: 'note', data: Buffer.concat([Buffer.from('nota '), INVALID_UTF8]) }]));
});

test('a refusal re-renders a note of invalid UTF-8 as valid UTF-8 HTML', async () => {
  const { body, contentType } = multipart([{ name: 'note', data: Buffer.concat([Buffer.from('NOTA-'), INVALID_UTF8]) }, { name: 'files', filename: 'x.jpg', data: ELF }]);
  const res = await request(h.svc.intake.app).post('/tips').set('Content-Type', contentType).send(body).buffer(true);
  assert.equal(res.status, 415);
  const html = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(res.text, 'utf8'));
  assert.match(html, /NOTA-\uFFFD/);
  await h.nothingKept();
  await h.stillUp();
});

test('a file name of invalid UTF-8 comes back in the 415 message as replacement characters', async () => {
  const m = await refusedName(Buffer.concat([Buffer.from('foto-'), INVALID_UTF8, Buffer.from('.jpg')]));
  assert.match(m, /foto-\uFFFD/);
});

test('a file name with ../../ is named back without its path, and nothing is written outside scratch', async () => {
  const before = readdirSync(dirname(h.svc.config.SCRATCH_DIR));
  const m = await refusedName('../../../../etc/cron.d/buzon.jpg', 'en');
  assert.match(m, /buzon\.jpg/);
  assert.doesNotMatch(m, /\.\.\//);
  assert.deepEqual(readdirSync(dirname(h.svc.config.SCRATCH_DIR)).filter((n) => !before.includes(n) && n.includes('buzon.jpg')), []);
});

test('a Windows path name (C:\\…\\..\\) is named back without its folders', async () => {
  const m = await refusedName('C:\\Users\\ana\\..\\..\\Windows\\evil.jpg');
  assert.match(m, /evil\.jpg/);
  assert.doesNotMatch(m, /Users|\\/);
});

test('a file name with a NUL byte (percent-encoded, as a browser sends it) is named back without it', async () => {
  const m = await expectRefused(h, { status: 415, code: 'unsupported_type' }, sendEncodedName('foto%00.exe.jpg'));
  assert.doesNotMatch(m, BIDI_OR_CONTROL);
  assert.match(m, /foto\.exe\.jpg/);
});

test('a raw NUL byte inside a part header is refused with 400 bad_form', async () => {
  await expectRefused(h, { status: 400, code: 'bad_form' }, sendRaw([{ name: 'files', filename: Buffer.from('foto\u0000.jpg'), data: ELF }]));
});

test('a file name with a right-to-left override (factura‮gpj.exe) is named back without the override', async () => {
  const m = await refusedName('factura\u202egpj.exe', 'en');
  assert.doesNotMatch(m, BIDI_OR_CONTROL);
  assert.match(m, /facturagpj\.exe/);
});

test('a file name made of isolates and embeddings only is named back as "?"', async () => {
  const m = await refusedName('\u2066\u2067\u2068\u2069\u202a\u202b');
  assert.match(m, /«\?»/);
});

test('a file name with tabs, terminal escapes and DEL is named back without them', async () => {
  const m = await expectRefused(h, { status: 415, code: 'unsupported_type', lang: 'en' }, sendEncodedName('a%09b%1B%5B31mc%7Fd.jpg', 'en'));
  assert.doesNotMatch(m, BIDI_OR_CONTROL);
  assert.match(m, /ab\[31mcd\.jpg/);
});

test('a 10,000-character file name is named back cut to 80 characters', async () => {
  const m = await refusedName('a'.repeat(10_000) + '.jpg');
  assert.ok(m.length < 400, `message is ${m.length} characters`);
  assert.match(m, /«a{80}»/);
});

test('a 10,000-character file name of two-byte letters (20 KB of header) is refused with 400 bad_form', async () => {
    await expectRefused(h, { status: 400, code: 'bad_form' }, sendRaw([{ name: 'files', filename: 'ñ'.repeat(10_000), data: ELF }]));
  });

test('an RFC 5987 file name (filename*=UTF-8\'\'…) hiding an override is decoded and cleaned', async () => {
  const m = await expectRefused(h, { status: 415, code: 'unsupported_type' }, sendEncodedName('inocente%E2%80%AEgpj.exe'));
  assert.doesNotMatch(m, BIDI_OR_CONTROL);
  assert.match(m, /inocentegpj\.exe/);
});

test('a note sent as a file part is not taken as the note: the tip is empty, 400 empty_tip', async () => {
  await expectRefused(h, { status: 400, code: 'empty_tip' }, sendRaw([{ name: 'note', filename: 'note.txt', data: 'hola' }]));
});

test('a field name of 10,000 bytes of invalid UTF-8 is ignored: the tip is empty, 400 empty_tip', async () => {
  await expectRefused(h, { status: 400, code: 'empty_tip', lang: 'en' }, sendRaw([{ name: Buffer.alloc(10_000, 0xff), data: 'x' }], 'en'));
});

test('an unknown ?lang= falls back to Spanish, and Accept-Language: en gives English', async () => {
  await expectRefused(h, { status: 400, code: 'empty_tip' }, async () =>
    request(h.svc.intake.app).post('/tips?lang=../../etc').set('Accept', 'application/json').field('note', ''));
  await expectRefused(h, { status: 400, code: 'empty_tip', lang: 'en' }, async () =>
    request(h.svc.intake.app).post('/tips').set('Accept', 'application/json').set('Accept-Language', 'en-US,en;q=0.5').field('note', ''));
});
