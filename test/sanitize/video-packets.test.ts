import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { packetSpan } from '../../src/sanitize/video-packets.ts';

describe('packetSpan: a packet\'s place in ffprobe\'s listing', () => {
  it('reads the decimal strings ffprobe prints', () => {
    assert.deepEqual(packetSpan({ stream_index: 0, size: '1439', pos: '48' }), [48, 1439]);
    assert.deepEqual(packetSpan({ pos: '0', size: '0' }), [0, 0]);
    assert.deepEqual(packetSpan({ pos: '007', size: '010' }), [7, 10]);
    assert.deepEqual(packetSpan({ pos: String(Number.MAX_SAFE_INTEGER), size: '1' }), [Number.MAX_SAFE_INTEGER, 1]);
  });

  it('refuses a place ffprobe did not know or that is not plain digits', () => {
    for (const bad of ['N/A', '', '-1', '+1', '1.5', '1e3', '0x10', ' 12', '12 ', '12\n', '١٢']) {
      assert.equal(packetSpan({ pos: bad, size: '10' }), undefined, `pos ${JSON.stringify(bad)}`);
      assert.equal(packetSpan({ pos: '10', size: bad }), undefined, `size ${JSON.stringify(bad)}`);
    }
  });

  it('refuses numbers, other types and missing fields', () => {
    assert.equal(packetSpan({ pos: 48, size: '10' }), undefined);
    assert.equal(packetSpan({ pos: '48', size: 10 }), undefined);
    assert.equal(packetSpan({ pos: null, size: '10' }), undefined);
    assert.equal(packetSpan({ pos: ['48'], size: '10' }), undefined);
    assert.equal(packetSpan({ size: '10' }), undefined);
    assert.equal(packetSpan({ pos: '48' }), undefined);
    assert.equal(packetSpan({}), undefined);
  });

  it('refuses an entry that is no object', () => {
    for (const bad of [null, undefined, 48, '48', true, ['48', '10']]) assert.equal(packetSpan(bad), undefined);
  });

  it('does not refuse digits past Number.MAX_SAFE_INTEGER: the callers bound them by the file size', () => {
    // Today's rule, kept as it is: such a value rounds, and is then refused by every caller's
    // check of pos + size against the file's own size.
    const span = packetSpan({ pos: '99999999999999999999', size: '1' });
    assert.ok(span !== undefined && span[0] > Number.MAX_SAFE_INTEGER);
  });
});
