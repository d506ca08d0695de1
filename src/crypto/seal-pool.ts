/**
 * Streaming seals in worker threads, so the intake's event loop stays free for note-only tips while
 * big files are sealed. Sealing a 1 MiB chunk costs the thread that runs it several milliseconds of
 * AES-CFB, SHA-1 and copies (BENCHMARKS.md); on the main thread, every step of every other request
 * waited behind those chunks (bench/concurrent.ts: note p99 ~0.6 s during 20 uploads).
 *
 * The same turn-keeper as seal() bounds how many run (one per core), and each turn has a worker of
 * its own, kept for the next turn. The worker reads the cleaned file itself; sealed chunks come back
 * as transferred buffers (no copy), one per request from the returned stream's consumer, so the
 * vault's pace sets the file read's pace, as before, and memory stays a few chunks per seal.
 */
import { Worker } from 'node:worker_threads';
import { Readable } from 'node:stream';
import type * as openpgp from 'openpgp';
import { sealSlots, SEAL_CHUNK_BYTES } from './seal.ts';

export type ToWorker =
  | { type: 'seal'; id: number; path: string; filename: string; keys: string[] }
  | { type: 'more'; id: number };
type FromWorker =
  | { type: 'chunk'; id: number; chunk: Uint8Array }
  | { type: 'end'; id: number }
  | { type: 'error'; id: number; message: string };

const idle: Worker[] = [];
const armoredOf = new WeakMap<openpgp.PublicKey[], string[]>();
let nextId = 1;

function armored(keys: openpgp.PublicKey[]): string[] {
  let a = armoredOf.get(keys);
  if (!a) armoredOf.set(keys, (a = keys.map((k) => k.armor())));
  return a;
}

function spawnWorker(): Worker {
  const limits = { resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 64 } };
  // Built (dist/, as npm start runs it), the worker is plain JavaScript beside this file.
  if (import.meta.url.endsWith('.js')) return new Worker(new URL('./seal-worker.js', import.meta.url), limits);
  const url = new URL('./seal-worker.ts', import.meta.url).href;
  // Node 20 does not give worker threads the main thread's module hooks, so under tsx (the tests,
  // `npm run editor`) the worker registers tsx itself before loading the .ts module.
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url)}); });`, { eval: true, ...limits });
}

/** Seals the file at `path` in a worker thread; the sealed message comes back as a Node stream. */
export async function sealFile(path: string, keys: openpgp.PublicKey[], filename: string): Promise<Readable> {
  const release = await sealSlots.acquire();
  const worker = idle.pop() ?? spawnWorker();
  worker.ref();
  const id = nextId++;
  let finished = false;
  let asked = false;

  const out = new Readable({
    highWaterMark: SEAL_CHUNK_BYTES,
    read() {
      if (asked || finished) return;
      asked = true;
      worker.postMessage({ type: 'more', id } satisfies ToWorker);
    },
    destroy(err, cb) {
      detach();
      if (!finished) {
        // Stopped halfway (a failed vault write): this worker's seal is abandoned with it.
        finished = true;
        void worker.terminate();
      }
      release();
      cb(err);
    },
  });

  const onMessage = (m: FromWorker) => {
    if (m.id !== id) return;
    if (m.type === 'chunk') {
      asked = false;
      out.push(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength));
    } else if (m.type === 'end') {
      finished = true;
      detach();
      worker.unref();
      idle.push(worker);
      out.push(null);
    } else {
      finished = true;
      detach();
      void worker.terminate();
      out.destroy(new Error(`seal failed: ${m.message}`));
    }
  };
  const onError = (e: Error) => {
    finished = true;
    detach();
    out.destroy(e);
  };
  const onExit = () => {
    if (!finished) onError(new Error('seal worker exited'));
  };
  function detach() {
    worker.off('message', onMessage);
    worker.off('error', onError);
    worker.off('exit', onExit);
  }
  worker.on('message', onMessage);
  worker.on('error', onError);
  worker.on('exit', onExit);
  worker.postMessage({ type: 'seal', id, path, filename, keys: armored(keys) } satisfies ToWorker);
  return out;
}
