/**
 * The one place where a refusal becomes a response: the status, a code, and a message in the
 * tipster's language that says what they can do next. Never the exception's text, which might carry
 * a tool's output or a path.
 *
 * A refused tip comes back as the form itself, with the message next to the field it is about and
 * the note and links as typed (escaped), because losing a long note to a validation error is
 * unforgivable, and a tipster who has to type it again may not.
 */
import type { Request, Response } from 'express';
import { TipError } from '../errors.ts';
import { t, type MessageKey } from './i18n/index.ts';
import { errorPage, formPage, type FieldName } from './views/pages.ts';

export function wantsJson(req: Request): boolean {
  return req.accepts(['html', 'json']) === 'json';
}

const FIELD_OF: Record<string, FieldName> = {
  empty_tip: 'note',
  note_too_long: 'note',
  too_many_links: 'links',
  file_too_large: 'files',
  tip_too_large: 'files',
  too_many_files: 'files',
  empty_file: 'files',
  unsupported_type: 'files',
  cleaning_failed: 'files',
  upload_interrupted: 'files',
  upload_lost: 'files',
};

function fieldOf(e: TipError): FieldName | undefined {
  if (e.code === 'field_too_large') return e.params.field === 'links' ? 'links' : 'note';
  return FIELD_OF[e.code];
}

/** `typed` holds what the tipster typed (note, links, finished upload ids), kept in the re-rendered form. */
export function sendError(req: Request, res: Response, lang: string, err: unknown, typed?: Record<string, string>): void {
  const e = err instanceof TipError ? err : new TipError(500, 'internal');
  const key = `error.${e.code}` as MessageKey;
  const params = { ...e.params };
  // The field's name in the tipster's language, not the form's internal name.
  if (e.code === 'field_too_large') params.field = t(lang, params.field === 'links' ? 'field.name.links' : 'field.name.note');
  const message = t(lang, key, params);
  res.status(e.status);
  if (wantsJson(req)) {
    res.json({ error: { code: e.code, message } });
    return;
  }
  if (req.method !== 'POST') {
    res.type('html').send(errorPage(lang, message, e.status === 404 ? message : undefined));
    return;
  }
  const field = fieldOf(e);
  // Finished uploads are offered again unless the refusal was about a file: then the tipster chooses
  // again, since we cannot tell them apart by name without keeping names.
  const uploads = field === 'files' ? undefined : typed?.uploads;
  res.type('html').send(formPage(lang, { note: typed?.note, links: typed?.links, uploads, error: { message, field } }));
}
