/**
 * With JavaScript on: per-file progress, tus uploads sealed at rest, and a dropped connection that
 * resumes where it stopped instead of starting over.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { dirtyJpeg } from '../support/fixtures.ts';
import { gpgDecrypt } from '../support/gpg.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';
import { waitForInbox } from '../support/wait.ts';
import { axeViolations, foreignRequests, launchChromium, recordedContext, startSite, type Site } from './harness.ts';
import { startCutProxy } from './cut-proxy.ts';

let site: Site;
let browser: Browser;
const work = tempDir('buzon-js-');

before(async () => {
  site = await startSite();
  browser = await launchChromium();
});
after(async () => {
  await browser.close();
  await site.stop();
  removeDirs(work);
});

/** A photo of noise, which JPEG cannot squeeze: a few megabytes, so an upload takes many packets. */
async function bigPhoto(): Promise<string> {
  const path = join(work, 'IMG_20240101_101010.jpg');
  await sharp({ create: { width: 1600, height: 1200, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 70 } } })
    .jpeg({ quality: 100 }).toFile(path);
  return path;
}

/** Every value the progress bars take, reported from the page as they change. */
async function watchProgress(page: Page): Promise<number[]> {
  const seen: number[] = [];
  await page.exposeFunction('buzonTestProgress', (v: number) => { seen.push(v); });
  await page.evaluate(() => {
    const report = (globalThis as unknown as { buzonTestProgress(v: number): void }).buzonTestProgress;
    new MutationObserver((ms) => {
      for (const m of ms) if (m.target instanceof HTMLProgressElement) report(m.target.value);
    }).observe(document.getElementById('file-list')!, { attributes: true, subtree: true, attributeFilter: ['value'] });
  });
  return seen;
}

async function submitWithFiles(page: Page, origin: string, files: string[], note: string): Promise<{ receipt: string; progress: number[] }> {
  await page.goto(origin + '/?lang=en');
  const progress = await watchProgress(page);
  await page.locator('#note').fill(note);
  await page.locator('#links').fill('https://example.org/one\nhttps://example.org/two');
  await page.locator('#files').setInputFiles(files);
  const item = page.locator('#file-list li').first();
  await item.waitFor();
  assert.match((await item.locator('.state').textContent())!, /Ready to send/);
  assert.equal(await item.locator('progress').count(), 1);
  assert.deepEqual(await axeViolations(page), [], 'form with a file chosen');
  await page.getByRole('button', { name: 'Send tip' }).click();
  await page.getByRole('heading', { name: 'We received your tip' }).waitFor({ timeout: 60_000 });
  return { receipt: (await page.locator('.receipt').textContent())!.trim(), progress };
}

test('with JavaScript on, a note, two links and a photo go through tus with a progress bar and reach the inbox', async () => {
  const photo = await dirtyJpeg(work);
  const rec = await recordedContext(browser, { javaScriptEnabled: true });
  const page = await rec.context.newPage();
  const { receipt, progress } = await submitWithFiles(page, site.origin, [photo], 'Vi tres camionetas en el puente.');
  assert.ok(progress.includes(100), `progress seen: ${progress.join(',')}`);

  const methods = rec.requests.map((r) => `${r.method} ${new URL(r.url).pathname}`);
  assert.ok(methods.includes('GET /static/tus.min.js'), 'tus client served by us');
  assert.ok(methods.includes('POST /uploads'), 'upload created with tus');
  assert.ok(methods.some((m) => /^PATCH \/uploads\/[a-f0-9]{32}$/.test(m)), 'bytes sent with PATCH');
  const tipPost = rec.requests.find((r) => r.method === 'POST' && r.url.includes('/tips'));
  assert.ok(tipPost, 'the form was submitted');

  const [tip] = await waitForInbox(site.svc.config.INBOX_DIR);
  const manifest = JSON.parse(gpgDecrypt(site.editor, join(tip!, 'manifest.json.pgp')).toString());
  assert.equal(manifest.receipt, receipt);
  assert.equal(manifest.note, 'Vi tres camionetas en el puente.');
  assert.deepEqual(manifest.links, ['https://example.org/one', 'https://example.org/two']);
  assert.equal(manifest.files.length, 1);
  assert.equal(manifest.files[0].kind, 'photo');
  // Claimed uploads are gone from the partials folder once the tip is stored.
  assert.deepEqual(readdirSync(site.svc.config.PARTIALS_DIR), []);

  assert.deepEqual(foreignRequests(rec, site.origin), []);
  assert.deepEqual(rec.setCookies, []);
  assert.deepEqual(await rec.context.cookies(), []);
  // Nothing about the upload is left in the browser's storage for whoever holds the phone.
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  await rec.context.close();
});

test('an upload cut mid-way resumes from where the server had it and completes', async () => {
  const photo = await bigPhoto();
  const port = (site.server.address() as AddressInfo).port;
  const proxy = await startCutProxy(port, 1024 * 1024);
  const origin = `http://127.0.0.1:${proxy.port}`;
  const before = readdirSync(site.svc.config.INBOX_DIR).length;
  const rec = await recordedContext(browser, { javaScriptEnabled: true });
  const page = await rec.context.newPage();
  try {
    const { receipt, progress } = await submitWithFiles(page, origin, [photo], 'Se cortó la conexión a la mitad.');
    assert.equal(proxy.cuts.length, 1, 'the connection was cut once');
    const patches = rec.requests.filter((r) => r.method === 'PATCH');
    assert.ok(patches.length >= 2, `PATCH requests: ${patches.length}`);
    const resumedAt = Number(patches.at(-1)!.headers['upload-offset']);
    assert.ok(resumedAt > 0, `the retry resumed at byte ${resumedAt}, not from zero`);
    assert.ok(rec.requests.some((r) => r.method === 'HEAD'), 'the client asked the server for its offset');
    assert.ok(progress.includes(100));

    const tips = await waitForInbox(site.svc.config.INBOX_DIR, before + 1);
    const manifests = tips.map((t) => JSON.parse(gpgDecrypt(site.editor, join(t, 'manifest.json.pgp')).toString()));
    const m = manifests.find((x) => x.receipt === receipt);
    assert.ok(m, 'the resumed tip is in the inbox');
    const tipDir = tips[manifests.indexOf(m)]!;
    const clean = join(work, 'resumed.jpg');
    writeFileSync(clean, gpgDecrypt(site.editor, join(tipDir, 'file-1.pgp')));
    const meta = await sharp(clean).metadata();
    assert.equal(meta.width, 1600);
    assert.equal(meta.height, 1200);
    assert.deepEqual(foreignRequests(rec, origin), []);
    assert.deepEqual(await rec.context.cookies(), []);
  } finally {
    await rec.context.close();
    await proxy.close();
  }
});

test('a file refused before upload is flagged at once, and once removed the rest of the tip goes through', async () => {
  const photo = await dirtyJpeg(work, 'IMG_cancel.jpg');
  const txt = join(work, 'notas.txt');
  writeFileSync(txt, 'solo texto');
  const before = readdirSync(site.svc.config.INBOX_DIR).length;
  const rec = await recordedContext(browser, { javaScriptEnabled: true });
  const page = await rec.context.newPage();
  await page.goto(site.origin + '/?lang=en');
  await page.locator('#note').fill('Con un archivo quitado.');
  await page.locator('#files').setInputFiles([photo, txt]);
  await page.getByRole('button', { name: 'Send tip' }).click();
  await page.getByText('Remove the files marked with a problem, then send again.').waitFor();
  assert.equal(rec.requests.filter((r) => r.url.includes('/uploads')).length, 0, 'nothing was uploaded while a file was refused');
  await page.getByRole('button', { name: 'Remove: notas.txt' }).click();
  await page.getByRole('button', { name: 'Send tip' }).click();
  const receipt = (await page.locator('.receipt').textContent({ timeout: 60_000 }))!.trim();
  const tips = await waitForInbox(site.svc.config.INBOX_DIR, before + 1);
  const manifests = tips.map((t) => JSON.parse(gpgDecrypt(site.editor, join(t, 'manifest.json.pgp')).toString()));
  const m = manifests.find((x) => x.receipt === receipt);
  assert.equal(m?.files.length, 1);
  assert.equal(m?.files[0].kind, 'photo');
  await rec.context.close();
});
