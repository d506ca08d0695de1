/**
 * Property-based fuzzing with fast-check: the link cleaner on any text, and the form parsing on random
 * multipart bodies and field values through the real app. Never a 5xx, never a crash, and nothing left
 * in scratch or drafts. Runs are bounded and seeded per run (fast-check prints the seed on failure).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import request from 'supertest';
import { cleanLinks, linksToText } from '../../src/sanitize/links.ts';
import { startHostile, withinMemory, type Hostile } from './harness.ts';
import { multipart, realJpeg } from './craft.ts';

/** Lines that look like what tipsters paste: URLs with tracking parameters, bare hosts, schemes, noise. */
const linkish = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.tuple(fc.webUrl(), fc.constantFrom('utm_source', 'fbclid', 'si', 'igshid', 'gclid', 'ref', 'id', 'v'), fc.string())
    .map(([u, k, v]) => `${u}${u.includes('?') ? '&' : '?'}${k}=${encodeURIComponent(v)}`),
  fc.tuple(fc.constantFrom('javascript:', 'file://', 'data:', 'intent:', 'HTTP://', 'https://user:pw@', 'www.', ''), fc.string())
    .map(([s, r]) => s + r),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
);
const linksText = fc.array(linkish, { maxLength: 8 }).chain((lines) =>
  fc.constantFrom('\n', '\r\n', '\r').map((sep) => lines.join(sep)));

test('the link cleaner never throws, keeps only http(s) as links, and drops sign-in details, on any text', () => {
  fc.assert(fc.property(linksText, (text) => {
    const r = cleanLinks(text);
    const nonBlank = text.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '').length;
    assert.ok(r.lines.length <= nonBlank);
    for (const l of r.lines) {
      if (l.kind !== 'url') continue;
      const u = new URL(l.url);
      assert.ok(u.protocol === 'http:' || u.protocol === 'https:', l.url);
      assert.equal(u.username + u.password, '', l.url);
    }
  }), { numRuns: 1500 });
});

test('the link cleaner is idempotent: cleaning its own output removes nothing more and changes nothing', () => {
  fc.assert(fc.property(linksText, (text) => {
    const once = cleanLinks(text);
    const twice = cleanLinks(linksToText(once));
    assert.deepEqual(twice.removed, {}, `removed again: ${JSON.stringify(twice.removed)} from ${JSON.stringify(linksToText(once))}`);
    assert.equal(linksToText(twice), linksToText(once));
  }), { numRuns: 1500 });
});

test('a tracking parameter added to any web link is always removed', () => {
  fc.assert(fc.property(fc.webUrl({ withFragments: false }), fc.constantFrom('utm_source', 'utm_medium', 'fbclid', 'gclid'), fc.stringMatching(/^[a-z0-9]{1,12}$/),
    (url, key, value) => {
      const withTracking = `${url}${url.includes('?') ? '&' : '?'}${key}=${value}`;
      const r = cleanLinks(withTracking);
      assert.equal(r.lines.length, 1);
      const line = r.lines[0]!;
      const out = line.kind === 'url' ? line.url : line.text;
      assert.equal(new URL(out).searchParams.has(key), false, `${withTracking} → ${out}`);
    }), { numRuns: 500 });
});

let h: Hostile;
let jpeg: Buffer;
before(async () => {
  h = await startHostile({ MAX_FILES: '3', MAX_FILE_BYTES: '65536', MAX_TIP_BYTES: '131072', MAX_NOTE_CHARS: '2000', MAX_LINKS: '5' });
  jpeg = await realJpeg();
});
after(async () => h.stop());

function okStatus(status: number): boolean {
  return status === 201 || (status >= 400 && status < 500);
}

async function afterFuzz(): Promise<void> {
  for (let i = 0; i < 30 && readdirSync(h.svc.config.SCRATCH_DIR).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(readdirSync(h.svc.config.SCRATCH_DIR), [], 'plaintext left in scratch');
  assert.deepEqual(readdirSync(join(h.svc.config.UPLOADS_DIR, '.drafts')), [], 'a draft left');
  await h.stillUp();
}

const fieldName = fc.oneof(fc.constantFrom('note', 'links', 'files', 'uploads', 'ticket', 'altcha', 'website', ''), fc.string({ maxLength: 20 }));
const bytes = fc.oneof(fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)), fc.string({ maxLength: 300, unit: 'binary' }).map((s) => Buffer.from(s)));
const part = fc.record({
  name: fc.oneof(fieldName, fc.uint8Array({ maxLength: 30 }).map((a) => Buffer.from(a))),
  filename: fc.option(fc.oneof(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a))), { nil: undefined }),
  contentType: fc.option(fc.constantFrom('image/jpeg', 'application/octet-stream', 'text/plain; charset=latin1', 'x/y;;;'), { nil: undefined }),
  data: bytes,
});
/** A body, possibly cut short or with bytes flipped, so the parser sees broken framing too. */
const body = fc.tuple(fc.array(part, { maxLength: 6 }), fc.option(fc.nat(), { nil: undefined }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }))
  .map(([parts, cut, flips]) => {
    const m = multipart(parts);
    let b = Buffer.from(m.body);
    if (cut !== undefined) b = b.subarray(0, cut % (b.length + 1));
    for (const [at, v] of flips) if (b.length) b[at % b.length] = v;
    return { body: b, contentType: m.contentType };
  });

test('a body cut inside a file part under another field name is refused, and does not crash the process', async () => {
  const { body, contentType } = multipart([{ name: 'note', data: 'hola' }, { name: 'otro', filename: 'x.jpg', data: Buffer.alloc(5000, 1) }]);
  const crashed = new Promise<Error | undefined>((resolve) => {
    process.once('uncaughtException', resolve);
    setTimeout(() => resolve(undefined), 1000).unref();
  });
  const res = await request(h.svc.intake.app).post('/tips').set('Accept', 'application/json').set('Content-Type', contentType).send(body.subarray(0, 2000));
  assert.equal(await crashed, undefined, 'an uncaught exception would have killed the intake');
  assert.equal(res.status, 400);
  await afterFuzz();
});

test('random multipart bodies (cut, flipped, invalid names) never get a 5xx or crash the service', async () => {
  await withinMemory(() => fc.assert(fc.asyncProperty(body, fc.constantFrom('', '?lang=en', '?lang=zz'), fc.boolean(), async (b, q, json) => {
    const r = request(h.svc.intake.app).post('/tips' + q).set('Content-Type', b.contentType);
    if (json) r.set('Accept', 'application/json');
    const res = await r.send(b.body);
    assert.ok(okStatus(res.status), `status ${res.status}`);
  }), { numRuns: 150 }));
  await afterFuzz();
});

test('random field values for note, links and honeypot, with or without a photo, never get a 5xx', async () => {
  const values = fc.record({
    note: fc.option(fc.string({ maxLength: 3000, unit: fc.constantFrom('a', ' ', '\n', '\r', '\u0000', 'ñ', '🙂', '\u202e', '<', '&') }), { nil: undefined }),
    links: fc.option(linksText, { nil: undefined }),
    website: fc.option(fc.constantFrom('', 'x'), { nil: undefined }),
    photo: fc.boolean(),
    ctype: fc.constantFrom('multipart/form-data; boundary=', 'multipart/form-data; boundary="a b"', 'multipart/mixed', ''),
  });
  await withinMemory(() => fc.assert(fc.asyncProperty(values, async (v) => {
    let r = request(h.svc.intake.app).post('/tips').set('Accept', 'application/json');
    if (v.note !== undefined) r = r.field('note', v.note);
    if (v.links !== undefined) r = r.field('links', v.links);
    if (v.website !== undefined) r = r.field('website', v.website);
    if (v.photo) r = r.attach('files', jpeg, 'p.jpg');
    const res = await r;
    assert.ok(okStatus(res.status), `status ${res.status}: ${JSON.stringify(res.body)}`);
    if (res.status !== 201) assert.match(String((res.body as { error?: { code?: string } }).error?.code), /^[a-z_]+$/);
  }), { numRuns: 120 }));
  await afterFuzz();
});

test('random content types and bodies that are not multipart get 400 bad_form, never a 5xx', async () => {
  await withinMemory(() => fc.assert(fc.asyncProperty(fc.string({ maxLength: 80 }), bytes, async (ctype, b) => {
    const res = await request(h.svc.intake.app).post('/tips').set('Accept', 'application/json').set('Content-Type', ctype || 'x').send(b);
    assert.ok(okStatus(res.status), `status ${res.status}`);
  }), { numRuns: 150 }));
  await afterFuzz();
});
