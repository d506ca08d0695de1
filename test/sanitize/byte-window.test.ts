import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ByteWindow } from '../../src/sanitize/byte-window.ts';

// The early remux reads frames out of this window by file offset and passes the rest on in order
// (video-early.ts): a byte read wrong is a unit blanked in the wrong place, a byte passed wrong is
// an upload changed in scratch.

test('reads and takes give back exactly the bytes pushed, whatever the chunk sizes (1 byte to 5,000)', () => {
  const data = randomBytes(100_000);
  let seed = 7;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  for (let trial = 0; trial < 100; trial++) {
    const w = new ByteWindow();
    const passed: Buffer[] = [];
    for (let at = 0; at < data.length;) {
      const n = 1 + rand(rand(2) === 0 ? 10 : 5000);
      w.push(data.subarray(at, at + n));
      at += n;
      for (let k = 0; k < 3 && w.held > 0; k++) {
        const from = w.start + rand(w.held);
        const len = rand(Math.min(100, w.end - from + 1));
        assert.ok(w.read(from, len).equals(data.subarray(from, from + len)), `read ${from}+${len}`);
      }
      if (rand(3) === 0) passed.push(...w.take(w.start + rand(w.held + 1)));
    }
    passed.push(...w.take(w.end));
    assert.ok(Buffer.concat(passed).equals(data), `trial ${trial}: every byte once, in order`);
  }
});

test('a read outside what is held is refused, not answered with other bytes', () => {
  const w = new ByteWindow();
  w.push(Buffer.from('abcdef'));
  w.take(2);
  assert.throws(() => w.read(1, 2), RangeError);
  assert.throws(() => w.read(4, 3), RangeError);
  assert.equal(w.read(2, 4).toString(), 'cdef');
});
