/**
 * The baseline every feature starts from: Tor Browser at its Safest level, JavaScript off.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { dirtyJpeg } from '../support/fixtures.ts';
import { gpgDecrypt } from '../support/gpg.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';
import { waitForInbox } from '../support/wait.ts';
import { axeViolations, describeViolations, foreignRequests, launchChromium, recordedContext, startSite, type Site } from './harness.ts';

let site: Site;
let browser: Browser;
const work = tempDir('buzon-nojs-');

before(async () => {
  site = await startSite();
  browser = await launchChromium();
});
after(async () => {
  await browser.close();
  await site.stop();
  removeDirs(work);
});

test('with JavaScript off, a note, two links and a photo reach the inbox and open in gpg; only our origin is contacted and no cookie is set', async () => {
  const photo = await dirtyJpeg(work);
  const rec = await recordedContext(browser, { javaScriptEnabled: false });
  const page = await rec.context.newPage();
  await page.goto(site.origin + '/');
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  assert.deepEqual(await axeViolations(page), [], 'form (es)');
  await page.getByLabel('¿Qué nos quieres contar?').fill('La camioneta blanca pasa cada martes a las 6.');
  await page.getByLabel('Enlaces (opcional)').fill('https://example.org/a\nhttps://example.org/b?utm_source=x');
  await page.getByLabel('Fotos, videos, audio o documentos (opcional)').setInputFiles(photo);
  await page.getByRole('button', { name: 'Enviar pista' }).click();
  await page.getByRole('heading', { name: 'Recibimos tu pista' }).waitFor();
  const receipt = (await page.locator('.receipt').textContent())!.trim();
  assert.match(receipt, /^\d{4}-\d{4}-\d{4}-\d{4}$/);
  assert.deepEqual(await axeViolations(page), [], 'thanks (es)');

  const [tip] = await waitForInbox(site.svc.config.INBOX_DIR);
  const manifest = JSON.parse(gpgDecrypt(site.editor, join(tip!, 'manifest.json.pgp')).toString());
  assert.equal(manifest.note, 'La camioneta blanca pasa cada martes a las 6.');
  assert.deepEqual(manifest.links, ['https://example.org/a', 'https://example.org/b']);
  assert.equal(manifest.receipt, receipt);
  assert.equal(manifest.files.length, 1);
  assert.equal(manifest.files[0].kind, 'photo');
  assert.ok(gpgDecrypt(site.editor, join(tip!, 'file-1.pgp')).length > 100);

  assert.equal(rec.requests.some((r) => r.url.endsWith('/static/buzon.js')), false, 'no script fetched with JS off');
  assert.deepEqual(foreignRequests(rec, site.origin), []);
  assert.deepEqual(rec.setCookies, []);
  assert.deepEqual(await rec.context.cookies(), []);
  await rec.context.close();
});

test('with JavaScript off, the language switch goes from Spanish to English and back, with no cookie', async () => {
  const rec = await recordedContext(browser, { javaScriptEnabled: false, locale: 'es-MX' });
  const page = await rec.context.newPage();
  await page.goto(site.origin + '/');
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Envíanos una pista');
  await page.getByRole('navigation', { name: 'Idioma' }).getByRole('link', { name: 'English' }).click();
  await page.getByRole('heading', { level: 1, name: 'Send us a tip' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(page.url(), /\?lang=en$/);
  assert.deepEqual(await axeViolations(page), [], 'form (en)');
  await page.getByRole('navigation', { name: 'Language' }).getByRole('link', { name: 'Español' }).click();
  await page.getByRole('heading', { level: 1, name: 'Envíanos una pista' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  assert.deepEqual(await rec.context.cookies(), []);
  assert.deepEqual(foreignRequests(rec, site.origin), []);
  await rec.context.close();
});

test('an English browser gets English from Accept-Language', async () => {
  const rec = await recordedContext(browser, { javaScriptEnabled: false, locale: 'en-US' });
  const page = await rec.context.newPage();
  await page.goto(site.origin + '/');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await rec.context.close();
});

for (const lang of ['es', 'en'] as const) {
  test(`with JavaScript off, a refused tip comes back on the same form (${lang}) with the note kept, the error at the field and announced`, async () => {
    const rec = await recordedContext(browser, { javaScriptEnabled: false });
    const page = await rec.context.newPage();
    await page.goto(`${site.origin}/?lang=${lang}`);
    const note = 'Una nota larga que no se debe perder <b>nunca</b> & "jamás".\nSegunda línea.';
    await page.locator('#note').fill(note);
    await page.locator('#links').fill('https://example.org/x');
    const notAPhoto = join(work, 'lista.txt');
    (await import('node:fs')).writeFileSync(notAPhoto, 'solo texto, no una foto\n');
    await page.locator('#files').setInputFiles(notAPhoto);
    await page.locator('button[type=submit]').click();
    await page.locator('.error-summary').waitFor();
    assert.equal(await page.locator('#note').inputValue(), note);
    assert.equal(await page.locator('#links').inputValue(), 'https://example.org/x');
    assert.equal(await page.locator('.error-summary').getAttribute('role'), 'alert');
    const described = (await page.locator('#files').getAttribute('aria-describedby'))!.split(' ');
    assert.ok(described.includes('files-error'));
    assert.equal(await page.locator('#files').getAttribute('aria-invalid'), 'true');
    assert.match((await page.locator('#files-error').textContent())!, lang === 'es' ? /No podemos recibir el archivo «lista\.txt»/ : /We cannot take the file “lista\.txt”/);
    assert.deepEqual(await axeViolations(page), [], `error page (${lang}):\n${describeViolations(await axeViolations(page))}`);
    assert.deepEqual(await rec.context.cookies(), []);
    await rec.context.close();
  });
}

test('the 404 page is in the tipster language and passes axe', async () => {
  const rec = await recordedContext(browser, { javaScriptEnabled: false });
  const page = await rec.context.newPage();
  const res = await page.goto(`${site.origin}/no-such-page?lang=en`);
  assert.equal(res?.status(), 404);
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'This page does not exist.');
  assert.deepEqual(await axeViolations(page), []);
  await rec.context.close();
});
