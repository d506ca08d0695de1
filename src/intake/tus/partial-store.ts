/**
 * The tus DataStore for tipsters' resumable uploads: each upload is a SealedPartial (ciphertext on
 * disk, key in memory), and what tus knows about it (size, offset, the file's name) lives only in
 * memory too.
 *
 * Threat: partial uploads outliving their purpose, on a disk or in a seized server's memory; the
 * upload id being guessed, letting someone else's upload be claimed or deleted.
 * Defence: ids are 128 random bits; a finished upload is claimed once by a tip and removed; an
 * unfinished one expires after a day without progress; at start, the folder is emptied, since the keys
 * that could read it died with the previous process. The tipster is told plainly that a restart loses
 * unfinished uploads.
 * Limits: a cap on uploads in progress bounds memory and disk; it is a denial-of-service floor, not a
 * defence against a determined flood (Tor's onion-service proof-of-work is).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { DataStore, ERRORS, Upload } from '@tus/server';
import { SealedPartial } from './sealed-partial.ts';
import { safeName } from '../receive.ts';

export interface PartialUpload {
  upload: Upload;
  sealed: SealedPartial;
  /** For the tipster's error messages only: never logged, never stored. */
  clientName: string;
  lastActive: number;
  /** Gives back this upload's share of the bytes-in-flight budget. */
  release: () => void;
}

export interface PartialStoreOptions {
  dir: string;
  maxUploads: number;
  /** An unfinished upload with no progress for this long is dropped. */
  expireMs: number;
  /**
   * Takes `bytes` from the service's bytes-in-flight budget (abuse/budget.ts), or says no. Without
   * it, a script could open hundreds of 2 GiB uploads and fill the disk, since uploads are not yet
   * tied to a tip that passed the abuse gate.
   */
  reserve?: (bytes: number) => (() => void) | undefined;
}

export const UPLOAD_ID = /^[a-f0-9]{32}$/;

export function newUploadId(): string {
  return randomBytes(16).toString('hex');
}

export class PartialStore extends DataStore {
  private readonly uploads = new Map<string, PartialUpload>();

  constructor(private readonly opts: PartialStoreOptions) {
    super();
    this.extensions = ['creation', 'termination', 'expiration'];
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    // Whatever is here was sealed under keys that no longer exist: unreadable, so useless. Remove it.
    for (const name of readdirSync(opts.dir)) rmSync(join(opts.dir, name), { force: true, recursive: true });
  }

  override async create(upload: Upload): Promise<Upload> {
    if (!UPLOAD_ID.test(upload.id)) throw ERRORS.FILE_WRITE_ERROR;
    if (this.uploads.size >= this.opts.maxUploads) {
      await this.deleteExpired();
      if (this.uploads.size >= this.opts.maxUploads) throw { status_code: 503, body: 'Busy, try again later\n' };
    }
    if (upload.size === undefined) throw { status_code: 400, body: 'Upload-Length is required\n' };
    const release = this.opts.reserve ? this.opts.reserve(upload.size) : () => {};
    if (!release) throw { status_code: 503, body: 'Busy, try again later\n' };
    const sealed = new SealedPartial(join(this.opts.dir, upload.id));
    try {
      await sealed.create();
    } catch (e) {
      release();
      throw e;
    }
    const name = String(upload.metadata?.filename ?? upload.metadata?.name ?? '');
    const clean = safeName(name);
    // Keep no metadata on the tus side: only the size and the offset go back to the client.
    const kept = new Upload({ id: upload.id, size: upload.size, offset: 0, creation_date: new Date().toISOString() });
    this.uploads.set(upload.id, { upload: kept, sealed, clientName: clean, lastActive: Date.now(), release });
    return kept;
  }

  override async write(stream: Readable, id: string, offset: number): Promise<number> {
    const p = this.uploads.get(id);
    if (!p) throw ERRORS.FILE_NOT_FOUND;
    if (p.sealed.offset !== offset) throw ERRORS.INVALID_OFFSET;
    p.lastActive = Date.now();
    const max = (p.upload.size ?? 0) - offset;
    try {
      return await p.sealed.append(stream, max);
    } finally {
      p.upload.offset = p.sealed.offset;
      p.lastActive = Date.now();
    }
  }

  override async getUpload(id: string): Promise<Upload> {
    const p = this.uploads.get(id);
    if (!p) throw ERRORS.FILE_NOT_FOUND;
    // tus measures expiry from creation_date; giving it the last activity makes the day count from
    // the last byte received, so a slow but live upload never expires under the tipster.
    return new Upload({ id, size: p.upload.size, offset: p.sealed.offset, creation_date: new Date(p.lastActive).toISOString() });
  }

  override async remove(id: string): Promise<void> {
    const p = this.uploads.get(id);
    if (!p) throw ERRORS.FILE_NOT_FOUND;
    this.uploads.delete(id);
    p.release();
    await p.sealed.remove();
  }

  override getExpiration(): number {
    return this.opts.expireMs;
  }

  override async deleteExpired(): Promise<number> {
    const cutoff = Date.now() - this.opts.expireMs;
    let n = 0;
    for (const [id, p] of this.uploads) {
      if (p.lastActive < cutoff) {
        this.uploads.delete(id);
        p.release();
        await p.sealed.remove();
        n++;
      }
    }
    return n;
  }

  /** A finished upload, or undefined if it does not exist (expired, lost in a restart) or is unfinished. */
  finished(id: string): PartialUpload | undefined {
    const p = this.uploads.get(id);
    return p && p.upload.size !== undefined && p.sealed.offset === p.upload.size ? p : undefined;
  }

  /** Drops everything at shutdown: the keys are about to be lost anyway. */
  async clear(): Promise<void> {
    for (const id of [...this.uploads.keys()]) await this.remove(id);
  }
}
