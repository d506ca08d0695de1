/**
 * Every response a tipster's browser can get carries the privacy and hardening headers, sets no
 * cookie and names no framework, whatever the route, method or outcome.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Response } from 'supertest';
import { startService, type TestService } from '../support/service.ts';

const ONION = 'http://' + 'a'.repeat(56) + '.onion';
let svc: TestService;

before(async () => {
  svc = await startService({ worker: false, env: { ONION_LOCATION: ONION } });
});
after(async () => svc.stop());

function assertHardened(res: Response, what: string): void {
  const h = res.headers;
  const csp = String(h['content-security-policy']);
  assert.match(csp, /(^|; )default-src 'none'(;|$)/, `${what}: CSP default-src`);
  for (const d of ["script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'", "worker-src 'self'", "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'"]) {
    assert.ok(csp.split('; ').includes(d), `${what}: CSP lacks ${d}`);
  }
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*|https?:/, `${what}: CSP opens more than 'self'`);
  assert.equal(h['referrer-policy'], 'no-referrer', `${what}: Referrer-Policy`);
  assert.equal(h['x-content-type-options'], 'nosniff', `${what}: nosniff`);
  assert.match(String(h['cache-control']), /no-store/, `${what}: Cache-Control`);
  assert.equal(h['cross-origin-opener-policy'], 'same-origin', `${what}: COOP`);
  assert.equal(h['cross-origin-embedder-policy'], 'require-corp', `${what}: COEP`);
  assert.equal(h['cross-origin-resource-policy'], 'same-origin', `${what}: CORP`);
  const pp = String(h['permissions-policy']);
  for (const f of ['camera', 'microphone', 'geolocation', 'payment', 'usb']) assert.ok(pp.includes(`${f}=()`), `${what}: Permissions-Policy ${f}`);
  assert.equal(h['x-powered-by'], undefined, `${what}: X-Powered-By`);
  assert.equal(h['set-cookie'], undefined, `${what}: Set-Cookie`);
  assert.equal(h['access-control-allow-origin'], undefined, `${what}: CORS`);
}

const GETS = ['/', '/?lang=en', '/?lang=es', '/static/buzon.css', '/static/buzon.js', '/static/proof.js', '/static/tus.min.js', '/static/altcha-pbkdf2.js', '/altcha/challenge', '/brand.css', '/brand/logo', '/favicon.ico', '/no-such-page', '/static/nope.js'];

for (const path of GETS) {
  test(`GET ${path} carries every hardening header and no cookie`, async () => {
    const res = await request(svc.intake.app).get(path).set('Accept-Encoding', 'gzip');
    assertHardened(res, `GET ${path}`);
  });
}

test('the proof-of-work solver is ALTCHA\'s own worker, served by us as JavaScript, gzipped when asked', async () => {
  const plain = await request(svc.intake.app).get('/static/altcha-pbkdf2.js').expect(200);
  assert.match(String(plain.headers['content-type']), /javascript/);
  assert.match(plain.text, /PBKDF2/);
  assert.match(plain.text, /type === "work"/, 'the message protocol public/proof.js speaks');
  const gz = await request(svc.intake.app).get('/static/altcha-pbkdf2.js').set('Accept-Encoding', 'gzip').expect(200);
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gz.text, plain.text);
});

test('pages announce our onion address to Tor Browser, for the same path', async () => {
  const res = await request(svc.intake.app).get('/?lang=en').expect(200);
  assert.equal(res.headers['onion-location'], `${ONION}/?lang=en`);
});

test('POST /tips, refused (HTML and JSON) and accepted, carries every hardening header', async () => {
  const empty = await request(svc.intake.app).post('/tips').field('note', '').expect(400);
  assertHardened(empty, 'POST /tips refused (HTML)');
  const json = await request(svc.intake.app).post('/tips').set('Accept', 'application/json').field('note', '').expect(400);
  assertHardened(json, 'POST /tips refused (JSON)');
  const ok = await request(svc.intake.app).post('/tips').field('note', 'Una nota.').expect(201);
  assertHardened(ok, 'POST /tips accepted');
  assert.match(ok.text, /\d{4}-\d{4}-\d{4}-\d{4}/);
});

test('every tus exchange (create, PATCH, HEAD, DELETE, OPTIONS, and refusals) carries every hardening header', async () => {
  const app = svc.intake.app;
  const create = await request(app).post('/uploads').set('Tus-Resumable', '1.0.0').set('Upload-Length', '5')
    .set('Upload-Metadata', 'filename ' + Buffer.from('nota.jpg').toString('base64')).expect(201);
  assertHardened(create, 'tus POST');
  const location = String(create.headers.location);
  assert.match(location, /^\/uploads\/[a-f0-9]{32}$/, 'relative location with a random id');
  const patch = await request(app).patch(location).set('Tus-Resumable', '1.0.0').set('Upload-Offset', '0')
    .set('Content-Type', 'application/offset+octet-stream').send(Buffer.from('hello')).expect(204);
  assertHardened(patch, 'tus PATCH');
  assert.equal(patch.headers['upload-offset'], '5');
  const head = await request(app).head(location).set('Tus-Resumable', '1.0.0').expect(200);
  assertHardened(head, 'tus HEAD');
  assert.equal(head.headers['upload-metadata'], undefined, 'the file name is never echoed back');
  const options = await request(app).options('/uploads').expect(204);
  assertHardened(options, 'tus OPTIONS');
  const del = await request(app).delete(location).set('Tus-Resumable', '1.0.0').expect(204);
  assertHardened(del, 'tus DELETE');
  const gone = await request(app).head(location).set('Tus-Resumable', '1.0.0').expect(404);
  assertHardened(gone, 'tus HEAD of a removed upload');
  const noTus = await request(app).post('/uploads').expect(412);
  assertHardened(noTus, 'tus without Tus-Resumable');
  const tooBig = await request(app).post('/uploads').set('Tus-Resumable', '1.0.0').set('Upload-Length', String(svc.config.MAX_FILE_BYTES + 1)).expect(413);
  assertHardened(tooBig, 'tus over the size limit');
});

test('the tus endpoint answers no other origin: no CORS headers even when asked', async () => {
  const res = await request(svc.intake.app).options('/uploads').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'POST');
  assert.equal(res.headers['access-control-allow-origin'], undefined);
});

test('health endpoints carry the headers too (they share the origin)', async () => {
  assertHardened(await request(svc.intake.app).get('/healthz').expect(200), 'GET /healthz');
});
