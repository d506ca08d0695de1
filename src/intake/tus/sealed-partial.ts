/**
 * One resumable upload in progress, kept on disk only as ciphertext.
 *
 * Threat: a partial upload sits on the server for minutes or hours while a slow Tor link crawls.
 * Plaintext written to disk can be recovered forensically long after it is deleted, and a server
 * seized mid-upload would hand over half a video.
 * Defence: each upload gets a fresh AES-256-GCM key from the CSPRNG, held only in this process's
 * memory. Bytes are sealed in records as they arrive; a record's nonce is its index (unique under a
 * key that is never reused), and its tag lets us refuse a file changed on disk. If the process ends,
 * the key is gone and the ciphertext is noise; it is removed at the next start.
 * Limits: the key lives in memory, so swap must be off or encrypted, as for scratch. The total size
 * and the timing of records are visible on disk; the content is not.
 *
 * Layout: records of [u32 plaintext length][ciphertext][16-byte GCM tag], one after another.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rm, truncate, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import type { Readable } from 'node:stream';

const RECORD_BYTES = 256 * 1024;
const TAG_BYTES = 16;

export class SealedPartial {
  /** Plaintext bytes sealed so far: the tus offset. */
  offset = 0;
  private readonly key = randomBytes(32);
  private records = 0;
  private fileBytes = 0;

  constructor(readonly path: string) {}

  async create(): Promise<void> {
    await writeFile(this.path, new Uint8Array(0), { mode: 0o600, flag: 'wx' });
  }

  private nonce(index: number): Buffer {
    const n = Buffer.alloc(12);
    n.writeBigUInt64BE(BigInt(index), 4);
    return n;
  }

  private seal(plain: Buffer): Buffer {
    const cipher = createCipheriv('aes-256-gcm', this.key, this.nonce(this.records));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(plain.length);
    cipher.setAAD(head);
    const body = Buffer.concat([head, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    this.records++;
    return body;
  }

  /**
   * Appends what the stream brings, sealing every full record as it fills. When the stream breaks
   * (a dropped circuit), what already arrived is sealed too, so the tipster resumes from there.
   * `max` caps what this call may take, so an upload never grows past its declared length.
   */
  async append(stream: Readable, max: number): Promise<number> {
    // A write that failed half-way left a torn record: cut back to the last whole one.
    await truncate(this.path, this.fileBytes);
    const fh = await open(this.path, 'a', 0o600);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let taken = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const plain = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      const sealed = this.seal(plain);
      await fh.write(sealed);
      this.fileBytes += sealed.length;
      this.offset += plain.length;
    };
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (taken + chunk.length > max) throw new Error('upload longer than declared');
        taken += chunk.length;
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= RECORD_BYTES) await flush();
      }
    } finally {
      await flush().finally(() => fh.close());
    }
    return this.offset;
  }

  /** Decrypts the whole upload into `dest` (in RAM-backed scratch), checking every record's tag. */
  async decryptTo(dest: string): Promise<number> {
    const fh = await open(this.path, 'r');
    const out = createWriteStream(dest, { mode: 0o600, flags: 'wx' });
    let pos = 0;
    let index = 0;
    let total = 0;
    try {
      const head = Buffer.alloc(4);
      while (pos < this.fileBytes) {
        await fh.read(head, 0, 4, pos);
        const len = head.readUInt32BE(0);
        if (len > RECORD_BYTES * 64) throw new Error('corrupt partial upload');
        const body = Buffer.alloc(len + TAG_BYTES);
        const { bytesRead } = await fh.read(body, 0, body.length, pos + 4);
        if (bytesRead !== body.length) throw new Error('truncated partial upload');
        const decipher = createDecipheriv('aes-256-gcm', this.key, this.nonce(index));
        decipher.setAAD(head);
        decipher.setAuthTag(body.subarray(len));
        const plain = Buffer.concat([decipher.update(body.subarray(0, len)), decipher.final()]);
        if (!out.write(plain)) await once(out, 'drain');
        total += plain.length;
        pos += 4 + body.length;
        index++;
      }
      if (index !== this.records || total !== this.offset) throw new Error('partial upload does not match its records');
    } finally {
      await fh.close();
      out.end();
      await once(out, 'close');
    }
    return total;
  }

  async remove(): Promise<void> {
    this.key.fill(0);
    await rm(this.path, { force: true });
  }
}
