/** The tipster's pages, server-rendered and working without JavaScript. */
import { t } from '../i18n/index.ts';
import { esc, page } from './html.ts';

export function formPage(lang: string): string {
  return page(lang, 'Buzón', `<h1>Buzón</h1>
<form method="post" action="/tips?lang=${esc(lang)}" enctype="multipart/form-data">
<p><label for="note">Note</label><br><textarea id="note" name="note" rows="8" cols="60"></textarea></p>
<p><label for="links">Links (one per line)</label><br><textarea id="links" name="links" rows="3" cols="60"></textarea></p>
<p><label for="files">Files</label><br><input id="files" name="files" type="file" multiple></p>
<p><button type="submit">Send</button></p>
</form>`);
}

export function thanksPage(lang: string, receipt: string, files: number): string {
  return page(lang, 'Buzón', `<h1>Thank you</h1>
<p>Your tip was received with ${esc(files)} file(s).</p>
<p>Receipt: <strong>${esc(receipt)}</strong></p>`);
}

export function errorPage(lang: string, message: string): string {
  return page(lang, t(lang, 'error.title'), `<h1>${esc(t(lang, 'error.title'))}</h1>
<p role="alert">${esc(message)}</p>
<p><a href="/?lang=${esc(lang)}">${esc(t(lang, 'error.next'))}</a></p>`);
}
