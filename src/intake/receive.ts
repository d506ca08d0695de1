/**
 * Streams a multipart tip into RAM-backed scratch, one file at a time, counting bytes as they come so
 * a limit is enforced before a byte over it is kept. The tipster's file name is held only in memory,
 * to name the file back to them in an error; it never reaches the vault, the queue or a log.
 */
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { BadForm, TooLarge, type TipError } from '../errors.ts';
import type { Scratch } from '../sanitize/types.ts';
import { ScratchWriter } from './scratch-writer.ts';

export interface ReceivedFile {
  rawPath: string;
  bytes: number;
  /** For error messages to the tipster only. */
  clientName: string;
}

export interface Received {
  fields: Record<string, string>;
  files: ReceivedFile[];
}

/**
 * Something that sits between a file's upload and its scratch file (video-early.ts): `stream` may
 * hold bytes back and change them before they are written; `end` says the file is whole in
 * scratch, `abort` that it never will be.
 */
export interface UploadTap {
  stream: Transform;
  end(): void;
  abort(): void;
}

export interface ReceiveLimits {
  maxFileBytes: number;
  maxTipBytes: number;
  maxFiles: number;
  maxFieldBytes: number;
}

/** Control and bidi-override characters are dropped so an error page cannot be spoofed. */
export function safeName(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, '').slice(0, 80) || '?';
}

/**
 * `scratchPaths` collects every path written, even on failure, so the caller can remove them all.
 */
export function receive(
  req: IncomingMessage,
  limits: ReceiveLimits,
  scratch: Scratch,
  scratchPaths: string[],
  /** Filled as fields arrive, so the caller still has the typed note when a later file is refused. */
  fields: Record<string, string> = {},
  /** A tap for the file at this index, written to this scratch path, if any. */
  tapFor?: (index: number, path: string) => UploadTap | undefined,
): Promise<Received> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        limits: {
          fileSize: limits.maxFileBytes,
          files: limits.maxFiles,
          fields: 20,
          fieldSize: limits.maxFieldBytes,
          parts: limits.maxFiles + 20,
        },
      });
    } catch {
      reject(new BadForm('bad_form'));
      return;
    }
    const files: ReceivedFile[] = [];
    const writes: Promise<void>[] = [];
    const inFlight: Transform[] = [];
    const taps: UploadTap[] = [];
    let total = 0;
    let failed = false;

    // Stop every file in flight and wait for its write to settle, so that when the caller removes
    // scratch files, no late write can create one again.
    const fail = (e: TipError) => {
      if (failed) return;
      failed = true;
      req.unpipe(bb);
      req.resume();
      for (const c of inFlight) c.destroy(new Error('tip refused'));
      for (const t of taps) t.abort();
      void Promise.allSettled(writes).then(() => reject(e));
    };

    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) {
        // Keep what arrived, so the form comes back with the note to shorten rather than empty.
        fields[name] = value;
        return fail(new TooLarge('field_too_large', { field: name === 'links' ? 'links' : 'note' }));
      }
      fields[name] = value;
    });

    bb.on('file', (name, stream, info) => {
      if (failed || name !== 'files' || info.filename === undefined || info.filename === '') {
        // A body cut inside an ignored part must not become an uncaught error that kills the intake.
        stream.on('error', () => {});
        stream.resume();
        return;
      }
      const file: ReceivedFile = { rawPath: scratch.path('.upload'), bytes: 0, clientName: safeName(info.filename) };
      scratchPaths.push(file.rawPath);
      files.push(file);
      const tap = tapFor?.(files.length - 1, file.rawPath);
      if (tap) taps.push(tap);
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          file.bytes += chunk.length;
          total += chunk.length;
          if (total > limits.maxTipBytes) return cb(new TooLarge('tip_too_large'));
          cb(null, chunk);
        },
      });
      inFlight.push(counter);
      stream.on('limit', () => fail(new TooLarge('file_too_large', { file: file.clientName })));
      writes.push(
        (tap
          ? pipeline(stream, counter, tap.stream, new ScratchWriter(file.rawPath))
          : pipeline(stream, counter, new ScratchWriter(file.rawPath))).then(() => tap?.end(), (e: unknown) => {
          fail(e instanceof TooLarge ? e : new BadForm('upload_interrupted'));
        }),
      );
    });

    bb.on('filesLimit', () => fail(new TooLarge('too_many_files', { max: limits.maxFiles })));
    bb.on('partsLimit', () => fail(new TooLarge('too_many_files', { max: limits.maxFiles })));
    bb.on('fieldsLimit', () => fail(new BadForm('bad_form')));
    // A body that arrived whole but does not parse is a bad form, not a dropped connection.
    bb.on('error', () => {
      if (req.complete) return fail(new BadForm('bad_form'));
      req.unpipe(bb);
      req.resume();
      req.once('end', () => fail(new BadForm('bad_form')));
    });
    bb.on('close', () => {
      void Promise.all(writes).then(() => {
        if (failed) return;
        resolve({ fields, files });
      });
    });
    req.on('aborted', () => fail(new BadForm('upload_interrupted')));
    req.pipe(bb);
  });
}
