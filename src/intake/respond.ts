/**
 * The one place where a refusal becomes a response: the status, a code, and a message in the
 * tipster's language that says what they can do next. Never the exception's text, which might carry
 * a tool's output or a path.
 */
import type { Request, Response } from 'express';
import { TipError } from '../errors.ts';
import { t, type MessageKey } from './i18n/index.ts';
import { errorPage } from './views/pages.ts';

export function wantsJson(req: Request): boolean {
  return req.accepts(['html', 'json']) === 'json';
}

/** `typed` holds what the tipster typed (note, links), to be kept in a re-rendered form. */
export function sendError(req: Request, res: Response, lang: string, err: unknown, _typed?: Record<string, string>): void {
  const e = err instanceof TipError ? err : new TipError(500, 'internal');
  const key = `error.${e.code}` as MessageKey;
  const message = t(lang, key, e.params);
  res.status(e.status);
  if (wantsJson(req)) res.json({ error: { code: e.code, message } });
  else res.type('html').send(errorPage(lang, message));
}
