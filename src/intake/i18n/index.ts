/**
 * Message catalogs: one file per language. Adding a language is adding a file and a line here.
 * The language comes from ?lang= (a switch that needs neither JavaScript nor a cookie), then from
 * Accept-Language, then Spanish, which most of our tipsters read.
 */
import { en, type MessageKey } from './en.ts';
import { es } from './es.ts';

export const CATALOGS: Record<string, Record<MessageKey, string>> = { es, en };
export type Lang = keyof typeof CATALOGS & string;
export const DEFAULT_LANG = 'es';

export function pickLang(query: unknown, acceptLanguage: string | undefined): string {
  if (typeof query === 'string' && query in CATALOGS) return query;
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.split(';')[0]?.trim().toLowerCase().slice(0, 2);
    if (tag && tag in CATALOGS) return tag;
  }
  return DEFAULT_LANG;
}

export function t(lang: string, key: MessageKey, params: Record<string, string | number> = {}): string {
  const msg = (CATALOGS[lang] ?? CATALOGS[DEFAULT_LANG]!)[key];
  return msg.replace(/\{(\w+)\}/g, (_, k: string) => String(params[k] ?? ''));
}

export type { MessageKey };
