import { test, type TestContext } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScratchWriter } from '../../src/intake/scratch-writer.ts';
import { removeDirs, tempDir } from '../support/cleanup.ts';

function folder(t: TestContext): string {
  const dir = tempDir('buzon-scratch-writer-', '/dev/shm');
  t.after(() => removeDirs(dir));
  return dir;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

test('an upload reaches its scratch file whole and in order, whatever the sizes of its chunks, readable by us alone', async (t) => {
  const path = join(folder(t), 'a.upload');
  const sizes = [1, 7, 65536, 3 * 1024 * 1024 + 5, 1024 * 1024, 1024 * 1024 - 1, 2, 65536 * 17, 0, 999];
  const chunks = sizes.map((n) => randomBytes(n));
  await pipeline(Readable.from(chunks), new ScratchWriter(path));
  assert.equal(sha(readFileSync(path)), sha(Buffer.concat(chunks)));
  assert.equal(statSync(path).mode & 0o777, 0o600);
});

test('an upload of nothing but empty chunks is an empty file, not an error', async (t) => {
  const path = join(folder(t), 'z.upload');
  await pipeline(Readable.from([Buffer.alloc(0), Buffer.alloc(0)]), new ScratchWriter(path));
  assert.equal(statSync(path).size, 0);
});

test('bytes reach the file soon after they arrive even when no more follow (the early remux waits on the moov)', async (t) => {
  const path = join(folder(t), 'b.upload');
  const w = new ScratchWriter(path);
  w.write(randomBytes(1000));
  // Not a speed figure: the early remux gives up on a moov not in scratch after ~10 s
  // (video-early.ts, scratchHolds), so bytes held longer than half of that break it.
  const deadline = Date.now() + 5_000;
  while ((existsSync(path) ? statSync(path).size : 0) < 1000 && Date.now() < deadline) await sleep(5);
  assert.equal(statSync(path).size, 1000);
  w.end();
  await once(w, 'close');
});

test('a file or a link already at the name is refused, and what it points to is untouched', async (t) => {
  const dir = folder(t);
  const target = join(dir, 'elsewhere');
  writeFileSync(target, 'not yours');
  for (const [name, make] of [['link.upload', (p: string) => symlinkSync(target, p)], ['file.upload', (p: string) => writeFileSync(p, 'there')]] as const) {
    const path = join(dir, name);
    make(path);
    await assert.rejects(pipeline(Readable.from([Buffer.from('plaintext')]), new ScratchWriter(path)), { code: 'EEXIST' });
  }
  assert.equal(readFileSync(target, 'utf8'), 'not yours');
  assert.equal(readFileSync(join(dir, 'file.upload'), 'utf8'), 'there');
});

test('a writer stopped mid-upload closes its file, and no write lands after it says it closed', async (t) => {
  const path = join(folder(t), 'c.upload');
  const fds = openFds();
  const w = new ScratchWriter(path);
  w.write(Buffer.alloc(1, 1));
  // The file is open and written to: what follows comes mid-upload, then the writer is stopped.
  while (!existsSync(path) || statSync(path).size < 1) await sleep(2);
  for (let i = 0; i < 40; i++) w.write(randomBytes(256 * 1024));
  w.destroy(new Error('tip refused'));
  await once(w, 'close').catch(() => {});
  const size = statSync(path).size;
  await sleep(50);
  assert.equal(statSync(path).size, size);
  assert.equal(openFds(), fds);
});

test('a write that hits a limit (the file size limit) ends in its error, not a loop or a short file taken as whole', (t) => {
  const path = join(folder(t), 'd.upload');
  // In a child under RLIMIT_FSIZE, which binds root too; SIGXFSZ is caught so the write fails with EFBIG.
  const r = spawnSync('prlimit', ['--fsize=1500000', process.execPath, '--import', 'tsx', '--input-type=module', '-e', `
process.on('SIGXFSZ', () => {});
const { Readable } = await import('node:stream');
const { pipeline } = await import('node:stream/promises');
const { ScratchWriter } = await import('./src/intake/scratch-writer.ts');
const chunks = Array.from({ length: 24 }, () => Buffer.alloc(65536, 1));
await pipeline(Readable.from(chunks), new ScratchWriter(${JSON.stringify(path)})).then(() => console.log('whole'), (e) => console.log(e.code));`],
  { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.stdout.trim(), 'EFBIG', r.stderr);
  assert.equal(statSync(path).size, 1500000);
});

test('with the thread pool busy, an upload is held back after two batches instead of piling up in RAM', (t) => {
  const path = join(folder(t), 'e.upload');
  // In a child with one pool thread, kept busy by a long key derivation while 256 KiB chunks arrive.
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
const { pbkdf2 } = await import('node:crypto');
const { statSync, existsSync } = await import('node:fs');
const { setTimeout: sleep } = await import('node:timers/promises');
const { ScratchWriter } = await import('./src/intake/scratch-writer.ts');
const path = ${JSON.stringify(path)};
const w = new ScratchWriter(path);
w.write(Buffer.alloc(1, 1));
while (!existsSync(path) || statSync(path).size < 1) await sleep(5);
pbkdf2('p', 's', 3_000_000, 32, 'sha512', () => {});
let taken = 0;
for (let i = 0; i < 200; i++) {
  const more = w.write(Buffer.alloc(256 * 1024, 2));
  taken += 256 * 1024;
  if (!more) break;
  await sleep(2);
}
const refused = w.writableNeedDrain;
w.end();
await new Promise((resolve, reject) => { w.on('close', resolve); w.on('error', reject); });
console.log(JSON.stringify({ taken, refused, size: statSync(path).size }));`],
  { encoding: 'utf8', timeout: 60_000, env: { ...process.env, UV_THREADPOOL_SIZE: '1' } });
  const out = JSON.parse(r.stdout.trim() || '{}') as { taken?: number; refused?: boolean; size?: number };
  assert.equal(out.refused, true, r.stderr);
  assert.ok(out.taken! <= 3 * 1024 * 1024, `took ${out.taken} bytes while nothing could be written`);
  assert.equal(out.size, out.taken! + 1, 'every byte taken reached the file');
});
