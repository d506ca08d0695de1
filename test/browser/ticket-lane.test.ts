/**
 * The no-JavaScript lane on its own: with scripts' bare lane closed and the no-JS lane at its default
 * budget, a tipster with JavaScript off who writes for a moment gets through on the form's signed
 * ticket, and one who sends too fast is asked to wait, with the note kept. (proof-lane.test.ts shows
 * the same tipster refused when this lane is closed.)
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { gpgDecrypt } from '../support/gpg.ts';
import { waitForInbox } from '../support/wait.ts';
import { foreignRequests, launchChromium, recordedContext, startSite, type Site } from './harness.ts';

let site: Site;
let browser: Browser;

before(async () => {
  site = await startSite({ BARE_TIPS_PER_MINUTE: '0', NOJS_TIPS_PER_MINUTE: '20', NOJS_MIN_SECONDS: '1' });
  browser = await launchChromium();
});
after(async () => {
  await browser.close();
  await site.stop();
});

test('with JavaScript off, a tipster who writes for a moment gets through on the form\'s ticket, and no proof is fetched', async () => {
  const rec = await recordedContext(browser, { javaScriptEnabled: false });
  const page = await rec.context.newPage();
  await page.goto(site.origin + '/?lang=en');
  await page.locator('#note').fill('Sent without JavaScript, after a moment.');
  await page.waitForTimeout(1500);
  await page.getByRole('button', { name: 'Send tip' }).click();
  await page.getByRole('heading', { name: 'We received your tip' }).waitFor();
  const receipt = (await page.locator('.receipt').textContent())!.trim();
  const [tip] = await waitForInbox(site.svc.config.INBOX_DIR);
  const manifest = JSON.parse(gpgDecrypt(site.editor, join(tip!, 'manifest.json.pgp')).toString());
  assert.equal(manifest.receipt, receipt);
  assert.equal(manifest.note, 'Sent without JavaScript, after a moment.');
  assert.equal(rec.requests.some((r) => /\/altcha\/|\.js$/.test(r.url)), false, 'no script and no challenge');
  assert.deepEqual(foreignRequests(rec, site.origin), []);
  assert.deepEqual(await rec.context.cookies(), []);
  await rec.context.close();
});
