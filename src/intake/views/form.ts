/**
 * The tip form, first shown empty, and shown again with what was typed when a tip is refused.
 * It works with no JavaScript at all: a plain multipart POST. With JavaScript, /static/buzon.js
 * reads the limits and its messages from data-js and uploads files resumably before submitting, and
 * /static/proof.js solves the proof of work in the background, announced in #check-status (empty,
 * so unseen, without JavaScript).
 */
import { t, type MessageKey } from '../i18n/index.ts';
import { esc, page } from './html.ts';
import { formatBytes, viewContext } from './context.ts';

export type FieldName = 'note' | 'links' | 'files';

export interface FormError {
  message: string;
  /** The field the error is about; none for a refusal that is about the whole tip. */
  field?: FieldName | undefined;
}

export interface FormState {
  note?: string | undefined;
  links?: string | undefined;
  /** Ids of resumable uploads finished before the refusal, sent again with the next attempt. */
  uploads?: string | undefined;
  error?: FormError | undefined;
}

const JS_KEYS: MessageKey[] = [
  'js.ready', 'js.uploading', 'js.done', 'js.retrying', 'js.cancel', 'js.remove', 'js.cancelled', 'js.lost', 'js.failed',
  'js.bad_kind', 'js.too_large', 'js.empty', 'js.too_many', 'js.tip_too_large', 'js.sending', 'js.fix',
  'js.check_running', 'js.check_done', 'js.check_wait',
];

function field(lang: string, name: FieldName, control: string, state: FormState, extraHint = ''): string {
  const err = state.error?.field === name ? state.error : undefined;
  const describedBy = [`${name}-hint`, err ? `${name}-error` : ''].filter(Boolean).join(' ');
  const withAria = control.replace('{aria}', `aria-describedby="${describedBy}"${err ? ' aria-invalid="true"' : ''}`);
  return `<div class="field${err ? ' has-error' : ''}">
<label for="${name}">${esc(t(lang, `field.${name}` as MessageKey))}</label>
<p class="hint" id="${name}-hint">${esc(t(lang, `field.${name}.hint` as MessageKey))}${extraHint}</p>
${err ? `<p class="field-error" id="${name}-error">${esc(err.message)}</p>` : ''}
${withAria}
</div>`;
}

export function formPage(lang: string, state: FormState = {}): string {
  const { brand, limits, extensions } = viewContext();
  const sizes = {
    maxFiles: limits.maxFiles,
    maxFile: formatBytes(limits.maxFileBytes, lang),
    maxTip: formatBytes(limits.maxTipBytes, lang),
    stall: limits.stallMinutes,
  };
  const messages = Object.fromEntries(JS_KEYS.map((k) => [k.slice(3), t(lang, k, sizes)]));
  const jsConfig = { maxFileBytes: limits.maxFileBytes, maxTipBytes: limits.maxTipBytes, maxFiles: limits.maxFiles, extensions, messages };
  const accept = ['image/*', 'video/*', 'audio/*', ...extensions.map((e) => `.${e}`)].join(',');
  const intro = brand.intro[lang] ?? t(lang, 'intro.default');
  const error = state.error;
  const summary = error
    ? `<div class="error-summary" role="alert" aria-labelledby="error-summary-title">
<h2 id="error-summary-title">${esc(t(lang, 'errors.summary'))}</h2>
<p>${error.field ? `<a href="#${error.field}">${esc(error.message)}</a>` : esc(error.message)}</p>
${error.field === 'files' || (error.field === undefined && !state.uploads) ? `<p>${esc(t(lang, 'field.files.again'))}</p>` : ''}
</div>`
    : '';
  const uploaded = state.uploads ? state.uploads.split('\n').filter(Boolean).length : 0;
  const title = (error ? `${t(lang, 'error.title')}. ` : '') + t(lang, 'page.title', { brand: brand.name });

  const body = `<h1>${esc(t(lang, 'form.title'))}</h1>
<p class="intro">${esc(intro)}</p>
${summary}
<section class="panel safety" aria-labelledby="safety-title">
<h2 id="safety-title">${esc(t(lang, 'safety.title'))}</h2>
<ul>
<li>${esc(t(lang, 'safety.tor'))}</li>
<li>${esc(t(lang, 'safety.device'))}</li>
<li>${esc(t(lang, 'safety.metadata'))}</li>
<li>${esc(t(lang, 'safety.after'))}</li>
</ul>
</section>
<section class="limits" aria-labelledby="limits-title">
<h2 id="limits-title">${esc(t(lang, 'limits.title'))}</h2>
<ul>
<li>${esc(t(lang, 'limits.files', sizes))}</li>
<li>${esc(t(lang, 'limits.kinds'))}</li>
<li>${esc(t(lang, 'limits.time', sizes))}</li>
<li>${esc(t(lang, 'limits.resume'))}</li>
</ul>
</section>
<form id="tip" method="post" action="/tips?lang=${esc(lang)}" enctype="multipart/form-data" data-js="${esc(JSON.stringify(jsConfig))}">
${field(lang, 'note', `<textarea id="note" name="note" rows="8" {aria}>${esc(state.note ?? '')}</textarea>`, state)}
${field(lang, 'links', `<textarea id="links" name="links" rows="3" inputmode="url" autocapitalize="off" spellcheck="false" {aria}>${esc(state.links ?? '')}</textarea>`, state)}
${field(lang, 'files', `<input id="files" name="files" type="file" multiple accept="${esc(accept)}" {aria}>`, state, ' ' + esc(t(lang, 'limits.files', sizes)))}
${uploaded > 0 ? `<p class="uploaded">${esc(t(lang, 'field.uploaded', { count: uploaded }))}</p>` : ''}
<input type="hidden" name="uploads" value="${esc(state.uploads ?? '')}">
<input type="hidden" name="ticket" value="${esc(viewContext().issueTicket?.() ?? '')}">
<div class="hp" aria-hidden="true"><label for="website">Website</label><input id="website" name="website" type="text" tabindex="-1" autocomplete="off"></div>
<ul class="file-list" id="file-list" hidden></ul>
<p class="status" id="upload-status" role="status"></p>
<p class="status check" id="check-status" role="status"></p>
<button type="submit">${esc(t(lang, 'submit'))}</button>
</form>
<section class="panel keep" aria-labelledby="keep-title">
<h2 id="keep-title">${esc(t(lang, 'keep.title'))}</h2>
<p>${esc(t(lang, 'keep.body'))}</p>
</section>`;
  return page(lang, title, body, { script: true, skipTo: 'tip' });
}
