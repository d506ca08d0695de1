/**
 * Seals a plaintext stream into an OpenPGP message for every editor, as a stream.
 *
 * Messages are what GnuPG 2.2 and Thunderbird open: SEIPD v1 (no AEAD), no compression (its length
 * leaks nothing extra, and compressing ciphertext-bound video is wasted work), binary format.
 * The literal packet carries the cleaned name and only the day, never the tipster's name or the
 * exact time, because an editor's machine can be seized too.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadable } from 'node:stream/web';
import * as openpgp from 'openpgp';

const CONFIG = {
  aeadProtect: false,
  preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
  preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
};

export function dayOf(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}

export async function seal(plaintext: Readable, keys: openpgp.PublicKey[], filename: string): Promise<Readable> {
  const message = await openpgp.createMessage({
    binary: Readable.toWeb(plaintext) as unknown as ReadableStream<Uint8Array>,
    format: 'binary',
    filename,
    date: dayOf(new Date()),
  });
  const sealed = await openpgp.encrypt({ message, encryptionKeys: keys, format: 'binary', config: CONFIG });
  return Readable.fromWeb(sealed as unknown as NodeWebReadable<Uint8Array>);
}

/** Small payloads (the manifest) sealed in one piece. */
export async function sealBytes(data: Uint8Array, keys: openpgp.PublicKey[], filename: string): Promise<Uint8Array> {
  const message = await openpgp.createMessage({ binary: data, format: 'binary', filename, date: dayOf(new Date()) });
  return openpgp.encrypt({ message, encryptionKeys: keys, format: 'binary', config: CONFIG });
}
