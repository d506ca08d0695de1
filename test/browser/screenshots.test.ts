/**
 * The pages as a tipster sees them, at a phone's 360 px and a desktop's 1280 px, in both languages,
 * saved to test-artifacts/screenshots/ for a human to look at. Also: the page stays light.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { dirtyJpeg } from '../support/fixtures.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';
import { SCREENSHOTS, launchChromium, recordedContext, startSite, type Site } from './harness.ts';

let site: Site;
let browser: Browser;

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  site = await startSite();
  browser = await launchChromium();
});
after(async () => {
  await browser.close();
  await site.stop();
});

const NOTES = { es: 'Vi una camioneta blanca en el puente a las 6.', en: 'I saw a white van on the bridge at 6.' };

for (const lang of ['es', 'en'] as const) {
  for (const width of [360, 1280]) {
    test(`screenshots of the form, a refusal and the confirmation (${lang}, ${width} px)`, async () => {
      const rec = await recordedContext(browser, { javaScriptEnabled: false, width });
      const page = await rec.context.newPage();
      await page.goto(`${site.origin}/?lang=${lang}`);
      await page.screenshot({ path: join(SCREENSHOTS, `form-${lang}-${width}.png`), fullPage: true });
      await page.locator('button[type=submit]').click();
      await page.locator('.error-summary').waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, `error-${lang}-${width}.png`), fullPage: true });
      await page.locator('#note').fill(NOTES[lang]);
      await page.locator('button[type=submit]').click();
      await page.locator('.receipt').waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, `thanks-${lang}-${width}.png`), fullPage: true });
      await rec.context.close();
    });
  }
}

for (const lang of ['es', 'en'] as const) {
  test(`screenshot of the form with JavaScript on and files chosen, one refused before upload (${lang}, 360 px)`, async (t) => {
    const dir = tempDir('buzon-shot-');
    t.after(() => removeDirs(dir));
    const txt = join(dir, 'notas.txt');
    writeFileSync(txt, 'texto');
    const rec = await recordedContext(browser, { javaScriptEnabled: true, width: 360 });
    const page = await rec.context.newPage();
    await page.goto(`${site.origin}/?lang=${lang}`);
    await page.locator('#files').setInputFiles([await dirtyJpeg(dir), txt]);
    await page.locator('#file-list li').nth(1).waitFor();
    assert.equal(await page.locator('#file-list li.bad').count(), 1, 'the .txt is flagged before any upload');
    await page.locator('#files').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SCREENSHOTS, `form-js-files-${lang}-360.png`) });
    await rec.context.close();
  });
}

for (const js of [false, true]) {
  test(`the form page weighs under 100 KB with everything it loads (JavaScript ${js ? 'on' : 'off'})`, async (t) => {
    const rec = await recordedContext(browser, { javaScriptEnabled: js });
    const page = await rec.context.newPage();
    await page.goto(`${site.origin}/`, { waitUntil: 'load' });
    if (js) {
      // Count the proof of work too: it starts when the tipster starts on the form.
      await page.locator('#note').focus();
      await page.getByText('Comprobación del navegador lista.').waitFor();
    }
    await page.waitForTimeout(300);
    // Playwright reports a worker's script request but cannot read its body: weigh it ourselves.
    const worker = `${site.origin}/static/altcha-pbkdf2.js`;
    if (js) {
      assert.ok(rec.requests.some((r) => r.url === worker), 'the solver was loaded');
      if (!rec.sizes.has(worker)) rec.sizes.set(worker, (await (await fetch(worker)).arrayBuffer()).byteLength);
    }
    const total = [...rec.sizes.values()].reduce((a, b) => a + b, 0);
    assert.ok(rec.sizes.size >= 3, `responses seen: ${[...rec.sizes.keys()].join(', ')}`);
    t.diagnostic(`page weight with JavaScript ${js ? 'on' : 'off'}: ${total} bytes in ${rec.sizes.size} responses: ${[...rec.sizes.keys()].map((u) => new URL(u).pathname).join(' ')}`);
    assert.ok(total < 100 * 1024, `page weight ${total} bytes`);
    await rec.context.close();
  });
}
