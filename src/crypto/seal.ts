/**
 * Seals a plaintext stream into an OpenPGP message for every editor, as a stream.
 *
 * Messages are what GnuPG 2.2 and Thunderbird open: SEIPD v1 (no AEAD), no compression (its length
 * leaks nothing extra, and compressing ciphertext-bound video is wasted work), binary format.
 * The literal packet carries the cleaned name and only the day, never the tipster's name or the
 * exact time, because an editor's machine can be seized too.
 *
 * Throughput and memory (see BENCHMARKS.md): openpgp.js runs AES-CFB and SHA-1 in OpenSSL, so its
 * cost per byte is set by how many stream hops and copies each chunk makes, and how big chunks are.
 * Readable.toWeb hands it the file stream's own chunks (64 KiB by default) and copies every one;
 * Readable.fromWeb buffers 16 chunks of output. Here both bridges are ours: the input is re-chunked
 * to a fixed power of two (the partial-length packets openpgp.js writes are powers of two, so
 * whole chunks pass with one copy instead of being split and re-joined), read only when openpgp.js
 * pulls (highWaterMark 0: no read-ahead), and the output is read only when the vault pulls.
 * Memory held per seal is then a few chunks, whatever the file size.
 */
import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import * as openpgp from 'openpgp';
import { Slots } from '../slots.ts';

/**
 * At most this many streaming seals run at once in a process; the rest wait their turn. Sealing is
 * CPU-bound on the event loop: twenty at once (bench/concurrent.ts) held 418 MiB and made a note-only
 * tip wait 3 s, since every seal's chunks queue ahead of it. One per core keeps both busy.
 */
export const SEAL_CONCURRENCY = Math.max(1, availableParallelism());

export const sealSlots = new Slots(SEAL_CONCURRENCY);
const slots = sealSlots;

/**
 * 256 KiB: each chunk is encrypted on the event loop in one go, so its size is how long a note-only
 * tip may wait behind a big upload's seal. 1 MiB chunks held note p99 at ~560 ms during 20 concurrent
 * 100 MiB uploads; 256 KiB brought it to ~240 ms with no loss of seal throughput (BENCHMARKS.md,
 * round 3). 64 KiB (Readable.toWeb's default) costs more per byte. Each chunk becomes one 2^18-byte
 * partial-length packet; the 1 MiB reads from store-tip.ts are sliced, not copied.
 */
export const SEAL_CHUNK_BYTES = 256 * 1024;

/** The settings every seal uses (seal-thread.ts passes them to its thread). */
export const SEAL_CONFIG = {
  aeadProtect: false,
  preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
  preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
};

export function dayOf(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}

/**
 * A web stream that reads `source` only when pulled, in chunks of exactly `chunkBytes` (the last
 * one shorter). Node Buffers are Uint8Arrays, so full chunks from the source pass without a copy.
 */
export function pullSource(source: Readable, chunkBytes = SEAL_CHUNK_BYTES): ReadableStream<Uint8Array> {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let ended = false;
  const take = (n: number): Uint8Array => {
    const head = pending[0]!;
    if (head.length >= n) {
      // A view, not a copy: a big source chunk is handed on in slices of the same memory.
      pendingBytes -= n;
      if (head.length === n) pending.shift();
      else pending[0] = head.subarray(n);
      return head.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const head = pending[0]!;
      const need = n - at;
      if (head.length <= need) {
        out.set(head, at);
        at += head.length;
        pending.shift();
      } else {
        out.set(head.subarray(0, need), at);
        pending[0] = head.subarray(need);
        at += need;
      }
    }
    pendingBytes -= n;
    return out;
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        while (!ended && pendingBytes < chunkBytes) {
          const r = await it.next();
          if (r.done) {
            ended = true;
            break;
          }
          const v = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
          if (v.length === 0) continue;
          // Fast path: an exact-size chunk with nothing pending goes straight through.
          if (pendingBytes === 0 && v.length === chunkBytes) {
            controller.enqueue(v);
            return;
          }
          pending.push(v);
          pendingBytes += v.length;
        }
        if (pendingBytes > 0) controller.enqueue(take(Math.min(chunkBytes, pendingBytes)));
        if (ended && pendingBytes === 0) controller.close();
      },
      async cancel(reason) {
        source.destroy(reason instanceof Error ? reason : undefined);
        await it.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

/** A Node Readable over a web stream that reads the web stream only when its consumer wants more. */
export function pullReadable(web: ReadableStream<Uint8Array>, highWaterMark = SEAL_CHUNK_BYTES): Readable {
  const reader = web.getReader();
  return new Readable({
    highWaterMark,
    read() {
      reader.read().then(
        ({ done, value }) => {
          if (done) this.push(null);
          else this.push(value);
        },
        (e: unknown) => this.destroy(e instanceof Error ? e : new Error(String(e))),
      );
    },
    destroy(err, cb) {
      reader.cancel(err ?? undefined).then(() => cb(err), () => cb(err));
    },
  });
}

export interface SealOptions {
  /** For bench/seal.ts; production uses SEAL_CHUNK_BYTES. */
  chunkBytes?: number;
}

/** The seal itself, with no turn-taking: for callers that bound concurrency themselves (seal-pool.ts). */
export async function sealUnlimited(plaintext: Readable, keys: openpgp.PublicKey[], filename: string, opts: SealOptions = {}): Promise<Readable> {
  const chunkBytes = opts.chunkBytes ?? SEAL_CHUNK_BYTES;
  const message = await openpgp.createMessage({
    binary: pullSource(plaintext, chunkBytes),
    format: 'binary',
    filename,
    date: dayOf(new Date()),
  });
  const sealed = (await openpgp.encrypt({ message, encryptionKeys: keys, format: 'binary', config: SEAL_CONFIG })) as ReadableStream<Uint8Array>;
  return pullReadable(sealed, chunkBytes);
}

export async function seal(plaintext: Readable, keys: openpgp.PublicKey[], filename: string, opts: SealOptions = {}): Promise<Readable> {
  const release = await slots.acquire();
  try {
    // 'close' follows both the end and a destroy, so a failed vault write frees the slot too.
    return (await sealUnlimited(plaintext, keys, filename, opts)).once('close', release);
  } catch (e) {
    release();
    throw e;
  }
}

/** Small payloads (the manifest) sealed in one piece. */
export async function sealBytes(data: Uint8Array, keys: openpgp.PublicKey[], filename: string): Promise<Uint8Array> {
  const message = await openpgp.createMessage({ binary: data, format: 'binary', filename, date: dayOf(new Date()) });
  return openpgp.encrypt({ message, encryptionKeys: keys, format: 'binary', config: SEAL_CONFIG });
}
