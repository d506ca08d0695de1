/** The tipster's pages, server-rendered and working without JavaScript. */
import { t } from '../i18n/index.ts';
import { esc, page } from './html.ts';
import { viewContext } from './context.ts';

export { formPage, type FormState, type FormError, type FieldName } from './form.ts';

/**
 * The receipt is shown once and never again: it is not stored anywhere we could show it from, so the
 * page says plainly to write it down.
 */
export function thanksPage(lang: string, receipt: string, files: number): string {
  const { brand } = viewContext();
  return page(lang, `${t(lang, 'thanks.title')}: ${brand.name}`, `<h1>${esc(t(lang, 'thanks.title'))}</h1>
<div class="panel receipt-box">
<h2 id="receipt-title">${esc(t(lang, 'thanks.receipt'))}</h2>
<p class="receipt">${esc(receipt)}</p>
<p>${esc(t(lang, 'thanks.receipt.hint'))}</p>
</div>
${files > 0 ? `<p>${esc(t(lang, 'thanks.files', { files }))}</p>` : ''}
<p>${esc(t(lang, 'thanks.after'))}</p>
<p><a class="button-link" href="/?lang=${esc(lang)}">${esc(t(lang, 'thanks.another'))}</a></p>`);
}

/** For refusals that are not about a form (a page that does not exist). */
export function errorPage(lang: string, message: string, title = t(lang, 'error.title')): string {
  return page(lang, title, `<h1>${esc(title)}</h1>
<p role="alert">${esc(message)}</p>
<p><a href="/?lang=${esc(lang)}">${esc(t(lang, 'error.next'))}</a></p>`);
}
