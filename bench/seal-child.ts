/**
 * One sealing run in its own process, so its peak RSS is its own. Prints one JSON line.
 * Usage: seal-child.ts naive|seal KEYS_DIR INPUT OUTPUT
 * "naive" is the first version of src/crypto/seal.ts (Readable.toWeb / Readable.fromWeb around
 * openpgp.encrypt, the file read in 64 KiB chunks), kept here as the "before" of BENCHMARKS.md.
 */
import { createReadStream, createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeWebReadable } from 'node:stream/web';
import * as openpgp from 'openpgp';
import { seal, dayOf } from '../src/crypto/seal.ts';

const [variant, keysDir, input, output] = process.argv.slice(2) as [string, string, string, string];
const keys = await Promise.all(readdirSync(keysDir).filter((n) => n.endsWith('.asc'))
  .map((n) => openpgp.readKey({ armoredKey: readFileSync(join(keysDir, n), 'utf8') })));

async function naive(plaintext: Readable): Promise<Readable> {
  const message = await openpgp.createMessage({
    binary: Readable.toWeb(plaintext) as unknown as ReadableStream<Uint8Array>, format: 'binary', filename: 'video-1.mp4', date: dayOf(new Date()),
  });
  const sealed = await openpgp.encrypt({ message, encryptionKeys: keys, format: 'binary', config: {
    aeadProtect: false, preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed, preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
  } });
  return Readable.fromWeb(sealed as unknown as NodeWebReadable<Uint8Array>);
}

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const sealed = variant === 'naive'
  ? await naive(createReadStream(input))
  : await seal(createReadStream(input, { highWaterMark: 1024 * 1024 }), keys, 'video-1.mp4', { chunkBytes: Number(process.env.SEAL_CHUNK ?? 0) || undefined });
await pipeline(sealed, createWriteStream(output, { highWaterMark: 1024 * 1024 }));
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const hwm = Number(readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+)/)![1]) / 1024;
process.stdout.write(JSON.stringify({ variant, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, hwmMiB: hwm }) + '\n');
