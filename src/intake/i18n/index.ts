/**
 * Message catalogs: one file per language, named by its code (es.ts, en.ts, fr.ts…), each exporting
 * `catalog`. en.ts defines the keys and every other file is typed against them, so adding a language
 * is adding one file: it is found here at start, and the switch on the page lists it.
 * The language comes from ?lang= (a switch that needs neither JavaScript nor a cookie), then from
 * Accept-Language, then Spanish, which most of our tipsters read.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MessageKey } from './en.ts';

export type Catalog = Record<MessageKey, string>;
export const DEFAULT_LANG = 'es';

async function loadCatalogs(): Promise<Record<string, Catalog>> {
  const here = dirname(fileURLToPath(import.meta.url));
  const found: Record<string, Catalog> = {};
  for (const file of readdirSync(here).sort()) {
    const m = /^([a-z]{2,3})\.(ts|js)$/.exec(file);
    if (!m) continue;
    const mod = (await import(`./${file}`)) as { catalog?: Catalog };
    if (mod.catalog) found[m[1]!] = mod.catalog;
  }
  if (!found[DEFAULT_LANG]) throw new Error(`i18n: no catalog for the default language ${DEFAULT_LANG}`);
  return found;
}

export const CATALOGS: Readonly<Record<string, Catalog>> = Object.freeze(await loadCatalogs());
/** The default language first, then the rest by code: the order of the switch on the page. */
export const LANGS: readonly string[] = [DEFAULT_LANG, ...Object.keys(CATALOGS).filter((l) => l !== DEFAULT_LANG)];

export function pickLang(query: unknown, acceptLanguage: string | undefined): string {
  if (typeof query === 'string' && Object.hasOwn(CATALOGS, query)) return query;
  // Accept-Language in the order given; q-values are rarely out of order, and Tor Browser sends en-US.
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.split(';')[0]?.trim().toLowerCase().split('-')[0];
    if (tag && Object.hasOwn(CATALOGS, tag)) return tag;
  }
  return DEFAULT_LANG;
}

export function t(lang: string, key: MessageKey, params: Record<string, string | number> = {}): string {
  const msg = (CATALOGS[lang] ?? CATALOGS[DEFAULT_LANG]!)[key];
  return msg.replace(/\{(\w+)\}/g, (_, k: string) => String(params[k] ?? ''));
}

export type { MessageKey };
