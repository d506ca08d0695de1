/**
 * The few ways a tip can be refused. Each maps to one HTTP status and one message key, in one place
 * (intake/respond.ts), so that no error path can echo tipster content or invent its own wording.
 */
export class TipError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    /** Safe, tipster-free details for the message template (a file's position, a limit). */
    readonly params: Record<string, string | number> = {},
  ) {
    super(code);
  }
}

/** 400: nothing to send, or a malformed form. */
export class EmptyTip extends TipError {
  constructor() { super(400, 'empty_tip'); }
}
export class BadForm extends TipError {
  constructor(code = 'bad_form', params: Record<string, string | number> = {}) { super(400, code, params); }
}
/** 413: a file or the whole tip is over a limit. */
export class TooLarge extends TipError {
  constructor(code: string, params: Record<string, string | number> = {}) { super(413, code, params); }
}
/** 415: a kind of file we cannot clean. */
export class UnsupportedType extends TipError {
  constructor(params: Record<string, string | number> = {}) { super(415, 'unsupported_type', params); }
}
/** 422: a file of a kind we take, but that we could not clean (broken, hostile, too complex). */
export class CleaningFailed extends TipError {
  constructor(params: Record<string, string | number> = {}, readonly reason = '') { super(422, 'cleaning_failed', params); }
}
/** 503: we cannot keep the tip safely right now. */
export class Unavailable extends TipError {
  constructor(code = 'unavailable') { super(503, code); }
}
