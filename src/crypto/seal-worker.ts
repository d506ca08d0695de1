/**
 * A worker thread of seal-pool.ts: reads one cleaned file from scratch, seals it (seal.ts), and hands
 * the sealed chunks to the main thread one at a time, each only when the main thread asks for one
 * (so the vault's back-pressure reaches the file read here). One job at a time.
 */
import { createReadStream } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import * as openpgp from 'openpgp';
import { sealUnlimited, SEAL_CHUNK_BYTES } from './seal.ts';
import type { ToWorker } from './seal-pool.ts';

const port = parentPort!;
let keysFor: string | undefined;
let keys: openpgp.PublicKey[] = [];
interface Job { id: number; credit: number; wake?: () => void }
let job: Job | undefined;

async function run(j: Job, path: string, filename: string, armored: string[]): Promise<void> {
  const { id } = j;
  const k = armored.join('\n');
  if (k !== keysFor) {
    keys = await Promise.all(armored.map((armoredKey) => openpgp.readKey({ armoredKey })));
    keysFor = k;
  }
  const sealed = await sealUnlimited(createReadStream(path, { highWaterMark: SEAL_CHUNK_BYTES }), keys, filename);
  for await (const chunk of sealed) {
    while (j.credit === 0) await new Promise<void>((r) => (j.wake = r));
    j.credit--;
    const c = chunk as Uint8Array;
    // openpgp.js may still hold the chunk it gave us (it did: transferring it detached its memory),
    // so a copy is transferred: one memcpy per MiB, in this thread.
    const own = new Uint8Array(c); // a copy (Buffer.prototype.slice would be a view)
    port.postMessage({ type: 'chunk', id, chunk: own }, [own.buffer as ArrayBuffer]);
  }
  port.postMessage({ type: 'end', id });
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'seal') {
    // Set before any await, so a request for a chunk that arrives meanwhile is counted.
    const j: Job = (job = { id: m.id, credit: 0 });
    run(j, m.path, m.filename, m.keys).catch((e: unknown) => {
      port.postMessage({ type: 'error', id: m.id, message: e instanceof Error ? e.message : String(e) });
    }).finally(() => { job = undefined; });
  } else if (m.type === 'more' && job?.id === m.id) {
    job.credit++;
    job.wake?.();
    job.wake = undefined;
  }
});
