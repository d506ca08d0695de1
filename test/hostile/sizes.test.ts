/**
 * Sizes and counts: empty files, too many files, parts and fields, an enormous note, a flood of
 * links. Each limit answers with its own code and a message that says what to do next.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHostile, expectRefused, postTip, type Hostile } from './harness.ts';
import { realJpeg } from './craft.ts';

let h: Hostile;
let jpeg: Buffer;
before(async () => {
  // MAX_FILES, MAX_NOTE_CHARS and MAX_LINKS at their defaults (20, 100000, 100); file sizes small.
  h = await startHostile({ MAX_FILE_BYTES: String(1024 * 1024), MAX_TIP_BYTES: String(3 * 1024 * 1024) });
  jpeg = await realJpeg();
});
after(async () => h.stop());

test('a 0-byte file is refused with 400 empty_file naming it', async () => {
  const m = await expectRefused(h, { status: 400, code: 'empty_file' }, async () => postTip(h).attach('files', Buffer.alloc(0), 'vacio.jpg'));
  assert.match(m, /vacio\.jpg/);
});

test('a 0-byte file next to a good photo and a note is refused with 400 empty_file, in English', async () => {
  await expectRefused(h, { status: 400, code: 'empty_file', lang: 'en' }, async () =>
    postTip(h, 'en').field('note', 'two files').attach('files', jpeg, 'ok.jpg').attach('files', Buffer.alloc(0), 'empty.pdf'));
});

test('10,000 files are refused with 413 too_many_files at the 21st, without reading the rest', async () => {
  const m = await expectRefused(h, { status: 413, code: 'too_many_files' }, async () => {
    let r = postTip(h).field('note', 'muchos');
    for (let i = 0; i < 10_000; i++) r = r.attach('files', Buffer.from([i & 0xff]), `f${i}.jpg`);
    return r;
  });
  assert.match(m, /20/);
});

test('21 photos (one over MAX_FILES) are refused with 413 too_many_files, in English', async () => {
  await expectRefused(h, { status: 413, code: 'too_many_files', lang: 'en' }, async () => {
    let r = postTip(h, 'en');
    for (let i = 0; i < 21; i++) r = r.attach('files', jpeg, `p${i}.jpg`);
    return r;
  });
});

test('1,000 empty file parts are refused with 413 too_many_files, not 1,000 empty_file checks', async () => {
  await expectRefused(h, { status: 413, code: 'too_many_files' }, async () => {
    let r = postTip(h);
    for (let i = 0; i < 1000; i++) r = r.attach('files', Buffer.alloc(0), `e${i}.jpg`);
    return r;
  });
});

test('a 10 MB note is refused with 413 field_too_large naming the note field', async () => {
  const m = await expectRefused(h, { status: 413, code: 'field_too_large' }, async () => postTip(h).field('note', 'a'.repeat(10 * 1024 * 1024)));
  assert.match(m, /«nota»/);
});

test('a note one character over MAX_NOTE_CHARS is refused with 413 note_too_long', async () => {
  const m = await expectRefused(h, { status: 413, code: 'note_too_long', lang: 'en' }, async () => postTip(h, 'en').field('note', 'b'.repeat(100_001)));
  assert.match(m, /100000/);
});

test('100,000 links are refused with 413 field_too_large naming the links field (the byte cap comes before the count)', async () => {
  const links = Array.from({ length: 100_000 }, (_, i) => `https://example.org/${i}`).join('\n');
  const m = await expectRefused(h, { status: 413, code: 'field_too_large' }, async () => postTip(h).field('note', 'enlaces').field('links', links));
  assert.match(m, /«lista de enlaces»/);
});

test('101 links (one over MAX_LINKS) are refused with 413 too_many_links', async () => {
  const links = Array.from({ length: 101 }, (_, i) => `https://example.org/${i}`).join('\n');
  const m = await expectRefused(h, { status: 413, code: 'too_many_links' }, async () => postTip(h).field('links', links));
  assert.match(m, /100/);
});

test('a file over MAX_FILE_BYTES is refused with 413 file_too_large naming it', async () => {
  const m = await expectRefused(h, { status: 413, code: 'file_too_large' }, async () =>
    postTip(h).attach('files', Buffer.concat([jpeg, Buffer.alloc(1024 * 1024)]), 'grande.jpg'));
  assert.match(m, /grande\.jpg/);
});

test('files that together pass MAX_TIP_BYTES are refused with 413 tip_too_large', async () => {
  await expectRefused(h, { status: 413, code: 'tip_too_large', lang: 'en' }, async () => {
    let r = postTip(h, 'en');
    for (let i = 0; i < 4; i++) r = r.attach('files', Buffer.alloc(900 * 1024, i + 1), `part${i}.jpg`);
    return r;
  });
});

test('25 text fields (over the form\'s field limit) are refused with 400 bad_form', async () => {
  await expectRefused(h, { status: 400, code: 'bad_form' }, async () => {
    let r = postTip(h);
    for (let i = 0; i < 25; i++) r = r.field(`campo${i}`, 'x');
    return r;
  });
});

test('10,000 empty text fields are refused with 400 bad_form', async () => {
  await expectRefused(h, { status: 400, code: 'bad_form', lang: 'en' }, async () => {
    let r = postTip(h, 'en');
    for (let i = 0; i < 10_000; i++) r = r.field('note', '');
    return r;
  });
});

test('a file sent under another field name than "files" is not kept: the tip is empty, 400 empty_tip', async () => {
  await expectRefused(h, { status: 400, code: 'empty_tip' }, async () => postTip(h).attach('adjunto', jpeg, 'foto.jpg'));
});

test('a file part with an empty file name is not kept: the tip is empty, 400 empty_tip', async () => {
  await expectRefused(h, { status: 400, code: 'empty_tip' }, async () => postTip(h).attach('files', jpeg, { filename: '' }));
});

test('a complete multipart request with an empty body is refused with 400 bad_form, not as an interrupted upload', async () => {
  await expectRefused(h, { status: 400, code: 'bad_form' }, async () => postTip(h).set('Content-Type', 'multipart/form-data; boundary=xyz').send(''));
});

test('a complete multipart body whose boundary never appears is refused with 400 bad_form', async () => {
  await expectRefused(h, { status: 400, code: 'bad_form', lang: 'en' }, async () =>
    postTip(h, 'en').set('Content-Type', 'multipart/form-data; boundary=xyz').send('--abc\r\nContent-Disposition: form-data; name="note"\r\n\r\nhola\r\n--abc--\r\n'));
});

test('a note of 60,000 emoji (60,000 characters, under MAX_NOTE_CHARS) is accepted, not refused as too long', async () => {
    const res = await postTip(h).field('note', '🙂'.repeat(60_000));
    assert.equal(res.status, 201, `status ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    await h.stillUp();
  });
