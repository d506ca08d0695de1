/** The note-only tip every note benchmark sends: a multipart body with a note and one link. */
const boundary = 'benchboundary7MA4YWxkTrZu0gW';
export const noteBody = [
  `--${boundary}`, 'Content-Disposition: form-data; name="note"', '',
  'La camioneta blanca pasa cada martes por la calle 5 a las 7.',
  `--${boundary}`, 'Content-Disposition: form-data; name="links"', '', 'https://example.org/a',
  `--${boundary}--`, '',
].join('\r\n');
export const noteHeaders = { 'content-type': `multipart/form-data; boundary=${boundary}`, accept: 'application/json' };
