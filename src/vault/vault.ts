/**
 * Ciphertext at rest, behind a small interface so that an S3-compatible backend can replace the
 * filesystem one. Only sealed OpenPGP messages are ever put here.
 *
 * A tip is written as a draft and committed whole: a crash leaves either a committed tip or a draft
 * that is swept at the next start, never half a tip that the worker could deliver.
 */
import type { Readable } from 'node:stream';

export interface SealedFile {
  /** Opaque name within the tip: file-1.pgp, manifest.json.pgp. */
  name: string;
  /** Ciphertext bytes, checked by the worker before delivery. */
  size: number;
}

export interface TipDraft {
  put(name: string, sealed: Readable): Promise<SealedFile>;
  /** A small sealed payload held whole in memory (the manifest): one write, no stream. */
  putBytes(name: string, sealed: Uint8Array): Promise<SealedFile>;
  /**
   * For a sealer that writes by itself (gpg): `write` gets an open, empty file descriptor and
   * resolves when it has written the whole sealed file there, so the bytes never pass through our
   * event loop. Only a vault with local files offers it; the others take `put`.
   */
  putFromFd?(name: string, write: (fd: number) => Promise<void>): Promise<SealedFile>;
  /** Makes the tip durable and visible to list(); after this the tip may be acknowledged. */
  commit(): Promise<void>;
  /** Drops everything written so far. */
  abort(): Promise<void>;
}

export interface Vault {
  begin(tipId: string): Promise<TipDraft>;
  /** Committed tips, oldest first. */
  list(): Promise<string[]>;
  files(tipId: string): Promise<SealedFile[]>;
  open(tipId: string, name: string): Readable;
  /** Where a sealed file lies on this machine, when it does (lets delivery copy in the kernel). */
  localPath?(tipId: string, name: string): string;
  /**
   * Removes a tip (delivered, or never to be). `names`, the files the caller knows it holds, lets a
   * backend remove them without listing the folder first; anything else there is removed too.
   */
  remove(tipId: string, names?: string[]): Promise<void>;
  /** Removes drafts left by a crash: they were never acknowledged. Returns how many. */
  sweepDrafts(): Promise<number>;
}

export const TIP_ID = /^[a-f0-9]{32}$/;
export const SEALED_NAME = /^(file-[1-9][0-9]{0,4}|manifest\.json)\.pgp$/;
