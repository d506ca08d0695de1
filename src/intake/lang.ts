import type { Request } from 'express';
import { pickLang } from './i18n/index.ts';

/** The tipster's language: ?lang= first (works without JavaScript or cookies), then Accept-Language. */
export function langOf(req: Request): string {
  return pickLang(req.query.lang, req.get('accept-language'));
}
