/**
 * The page shell and escaping. Every value put into a page goes through esc(): tipster text is never
 * echoed raw (XSS), and nothing inline is ever emitted (no <script>, no style=), so the CSP can stay
 * at 'self'.
 */
import { LANGS, t, CATALOGS } from '../i18n/index.ts';
import { viewContext } from './context.ts';

export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function languageSwitch(lang: string): string {
  const items = LANGS.map((l) => {
    const name = esc(CATALOGS[l]!['lang.name']);
    return l === lang
      ? `<li><span aria-current="true" lang="${esc(l)}">${name}</span></li>`
      : `<li><a href="/?lang=${esc(l)}" hreflang="${esc(l)}" lang="${esc(l)}">${name}</a></li>`;
  });
  return `<nav class="langs" aria-label="${esc(t(lang, 'lang.nav'))}"><ul>${items.join('')}</ul></nav>`;
}

export interface PageOptions {
  /** Only the form page loads the script: the others work the same with or without it. */
  script?: boolean;
  /** A skip link is worth having only where there is a form to skip to. */
  skipTo?: string;
}

export function page(lang: string, title: string, body: string, opts: PageOptions = {}): string {
  const { brand } = viewContext();
  const logo = brand.logo ? `<img src="/brand/logo" alt="" width="40" height="40">` : '';
  return `<!doctype html>
<html lang="${esc(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(title)}</title>
<link rel="stylesheet" href="/static/buzon.css">
<link rel="stylesheet" href="/brand.css">
${brand.logo ? '<link rel="icon" href="/brand/logo">' : ''}
${opts.script ? '<script src="/static/proof.js" defer></script>\n<script src="/static/buzon.js" defer></script>' : ''}
</head>
<body>
${opts.skipTo ? `<a class="skip" href="#${esc(opts.skipTo)}">${esc(t(lang, 'skip'))}</a>` : ''}
<header class="masthead">
<div class="wrap">
<a class="brand" href="/?lang=${esc(lang)}">${logo}<span>${esc(brand.name)}</span></a>
${languageSwitch(lang)}
</div>
</header>
<main class="wrap" id="main">
${body}
</main>
<footer class="wrap"><p>${esc(t(lang, 'footer'))}</p></footer>
</body>
</html>`;
}
