/**
 * The JavaScript lane's proof of work, in a real browser. The service is started with the no-JS and
 * bare lanes closed (0 tips a minute), so a tip that gets in can only have come through the ALTCHA
 * proof lane: the browser fetched the challenge from us, solved it in our worker while the tipster
 * wrote, and sent it in the `altcha` field. With JavaScript off, that service refuses the tipster and
 * keeps the note (ticket-lane.test.ts shows the same tipster getting through when that lane is open).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import { dirtyJpeg } from '../support/fixtures.ts';
import { gpgDecrypt } from '../support/gpg.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';
import { waitForInbox } from '../support/wait.ts';
import { SCREENSHOTS, axeViolations, describeViolations, foreignRequests, launchChromium, recordedContext, startSite, type Site } from './harness.ts';

let proofOnly: Site;
let browser: Browser;
const work = tempDir('buzon-proof-');

before(async () => {
  // Only the proof lane is open; the work is the production default. (One service per file: the
  // views' context, which issues the form's ticket, is per process.)
  proofOnly = await startSite({ BARE_TIPS_PER_MINUTE: '0', NOJS_TIPS_PER_MINUTE: '0', POW_BASE_COUNTER: '3000' });
  browser = await launchChromium();
});
after(async () => {
  await browser.close();
  await proofOnly.stop();
  removeDirs(work);
});

interface Proof {
  challenge: { parameters: Record<string, unknown>; signature: string };
  solution: Record<string, unknown>;
}

/** The `altcha` field of every tip the page posts, decoded ('' when the field was missing or empty). */
function watchTipPosts(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (r: Request) => {
    if (r.method() !== 'POST' || new URL(r.url()).pathname !== '/tips') return;
    const m = /name="altcha"\r\n\r\n([^\r]*)\r\n/.exec(r.postData() ?? '');
    seen.push(m ? m[1]! : '');
  });
  return seen;
}

function decode(altcha: string): Proof {
  return JSON.parse(Buffer.from(altcha, 'base64').toString('utf8')) as Proof;
}

async function manifestFor(site: Site, receipt: string, count: number): Promise<Record<string, unknown> & { files: { kind: string }[] }> {
  const tips = await waitForInbox(site.svc.config.INBOX_DIR, count);
  const manifests = tips.map((t) => JSON.parse(gpgDecrypt(site.editor, join(t, 'manifest.json.pgp')).toString()));
  const m = manifests.find((x) => x.receipt === receipt);
  assert.ok(m, `tip ${receipt} is in the inbox`);
  return m;
}

test('with JavaScript on, the proof is solved while the tipster writes, and a note and a photo get in through the proof lane alone', async () => {
  const photo = await dirtyJpeg(work);
  const rec = await recordedContext(browser, { javaScriptEnabled: true, locale: 'en-US' });
  const page = await rec.context.newPage();
  const posted = watchTipPosts(page);
  await page.goto(proofOnly.origin + '/?lang=en');
  assert.equal(rec.requests.some((r) => r.url.includes('/altcha/')), false, 'no work for someone who only reads the page');

  await page.locator('#note').fill('El camión sale del almacén a las 5.');
  await page.locator('#files').setInputFiles(photo);
  const check = page.locator('#check-status');
  assert.equal(await check.getAttribute('role'), 'status', 'the check is announced politely');
  await page.getByText('Browser check done.').waitFor({ timeout: 30_000 });
  assert.deepEqual(await axeViolations(page), [], describeViolations(await axeViolations(page)));
  await page.locator('#check-status').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SCREENSHOTS, 'form-js-check-en-360.png') });

  await page.getByRole('button', { name: 'Send tip' }).click();
  await page.getByRole('heading', { name: 'We received your tip' }).waitFor({ timeout: 60_000 });
  const receipt = (await page.locator('.receipt').textContent())!.trim();

  const calls = rec.requests.map((r) => `${r.method} ${r.url}`);
  assert.ok(calls.includes(`GET ${proofOnly.origin}/altcha/challenge`), 'the challenge came from our origin');
  assert.ok(calls.includes(`GET ${proofOnly.origin}/static/altcha-pbkdf2.js`), 'the solver came from our origin');
  assert.ok(calls.some((c) => /^PATCH .*\/uploads\//.test(c)), 'the photo went up with tus');
  assert.equal(posted.length, 1);
  const proof = decode(posted[0]!);
  assert.equal(proof.challenge.parameters.algorithm, 'PBKDF2/SHA-256');
  assert.deepEqual(Object.keys(proof.solution).sort(), ['counter', 'derivedKey'], 'no timing (a device trait) is sent');

  const m = await manifestFor(proofOnly, receipt, 1);
  assert.equal(m.note, 'El camión sale del almacén a las 5.');
  assert.equal(m.files.length, 1);
  assert.equal(m.files[0]!.kind, 'photo');
  assert.deepEqual(foreignRequests(rec, proofOnly.origin), []);
  assert.deepEqual(rec.setCookies, []);
  assert.deepEqual(await rec.context.cookies(), []);
  await rec.context.close();
});

test('pressing send before the check is done waits for it, then sends the note with the proof', async () => {
  const before = readdirSync(proofOnly.svc.config.INBOX_DIR).length;
  const rec = await recordedContext(browser, { javaScriptEnabled: true, locale: 'es-MX' });
  const page = await rec.context.newPage();
  const posted = watchTipPosts(page);
  await page.goto(proofOnly.origin + '/');
  await page.locator('#note').fill('Nota rápida, sin archivos.');
  await page.getByRole('button', { name: 'Enviar pista' }).click();
  await page.getByRole('heading', { name: 'Recibimos tu pista' }).waitFor({ timeout: 60_000 });
  const receipt = (await page.locator('.receipt').textContent())!.trim();
  assert.equal(posted.length, 1);
  assert.ok(posted[0], 'the plain POST carried the proof');
  const m = await manifestFor(proofOnly, receipt, before + 1);
  assert.equal(m.note, 'Nota rápida, sin archivos.');
  assert.deepEqual(await rec.context.cookies(), []);
  await rec.context.close();
});

test('a proof the server refuses (400 challenge_failed) comes back with the note kept, and the next send solves a fresh challenge', async () => {
  const before = readdirSync(proofOnly.svc.config.INBOX_DIR).length;
  const rec = await recordedContext(browser, { javaScriptEnabled: true, locale: 'en-US' });
  const page = await rec.context.newPage();
  const posted = watchTipPosts(page);
  // The first challenge is tampered with in transit, so its proof cannot verify.
  let tampered = false;
  await page.route('**/altcha/challenge', async (route) => {
    const res = await route.fetch();
    const body = (await res.json()) as Proof['challenge'];
    if (!tampered) {
      tampered = true;
      body.signature = '0'.repeat(body.signature.length);
    }
    await route.fulfill({ response: res, json: body });
  });
  await page.goto(proofOnly.origin + '/?lang=en');
  const note = 'A long note that must survive a failed check.';
  await page.locator('#note').fill(note);
  await page.getByText('Browser check done.').waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Send tip' }).click();
  await page.locator('.error-summary').waitFor();
  assert.match((await page.locator('.error-summary').textContent())!, /automatic check in your browser did not work/);
  assert.equal(await page.locator('#note').inputValue(), note);
  // The refused form starts a fresh proof at once; sending again goes through.
  await page.getByText('Browser check done.').waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Send tip' }).click();
  await page.getByRole('heading', { name: 'We received your tip' }).waitFor({ timeout: 60_000 });
  const receipt = (await page.locator('.receipt').textContent())!.trim();
  assert.equal(posted.length, 2);
  assert.notEqual(decode(posted[0]!).challenge.parameters.nonce, decode(posted[1]!).challenge.parameters.nonce);
  assert.equal((await manifestFor(proofOnly, receipt, before + 1)).note, note);
  await rec.context.close();
});

test('a proof whose challenge is about to expire is not sent: a new challenge is fetched and solved first', async () => {
  const before = readdirSync(proofOnly.svc.config.INBOX_DIR).length;
  const rec = await recordedContext(browser, { javaScriptEnabled: true, locale: 'en-US' });
  const page = await rec.context.newPage();
  const posted = watchTipPosts(page);
  let served = 0;
  await page.route('**/altcha/challenge', async (route) => {
    const res = await route.fetch();
    const body = (await res.json()) as Proof['challenge'];
    if (served++ === 0) body.parameters.expiresAt = Math.floor(Date.now() / 1000) + 5;
    await route.fulfill({ response: res, json: body });
  });
  await page.goto(proofOnly.origin + '/?lang=en');
  await page.locator('#note').fill('Sent with a second challenge.');
  await page.getByText('Browser check done.').waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Send tip' }).click();
  await page.getByRole('heading', { name: 'We received your tip' }).waitFor({ timeout: 60_000 });
  assert.equal(served, 2, 'the challenge was fetched again');
  assert.equal(posted.length, 1);
  const receipt = (await page.locator('.receipt').textContent())!.trim();
  assert.equal((await manifestFor(proofOnly, receipt, before + 1)).note, 'Sent with a second challenge.');
  await rec.context.close();
});

test('with JavaScript off and the no-JS lane closed, the tipster is refused with the note kept, and no proof is ever fetched', async () => {
  const rec = await recordedContext(browser, { javaScriptEnabled: false });
  const page = await rec.context.newPage();
  await page.goto(proofOnly.origin + '/?lang=en');
  const note = 'Written with JavaScript off. <Do not lose me> & "keep" me.';
  await page.locator('#note').fill(note);
  const res = page.waitForResponse((r) => r.url().includes('/tips'));
  await page.getByRole('button', { name: 'Send tip' }).click();
  assert.equal((await res).status(), 429);
  await page.locator('.error-summary').waitFor();
  assert.match((await page.locator('.error-summary').textContent())!, /receiving many tips right now/);
  assert.equal(await page.locator('#note').inputValue(), note);
  assert.equal(await page.locator('.error-summary').getAttribute('role'), 'alert');
  assert.equal(rec.requests.some((r) => /\/altcha\/|\.js$/.test(r.url)), false, 'no script and no challenge');
  assert.deepEqual(await axeViolations(page), []);
  assert.deepEqual(await rec.context.cookies(), []);
  await rec.context.close();
});
