/**
 * The strict readers of audio codec configuration records (audio-config.ts): what encoders and
 * phones write is plain; anything with room left over for a message is not.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { plainAsc, plainAudioConfig, plainOpusHead } from '../../src/sanitize/audio-config.ts';
import { copiedRecordsKept } from '../../src/sanitize/audio-output-check.ts';
import { configRecords } from '../../src/sanitize/video-sei-scrub.ts';
import { limitsFor } from '../../src/sanitize/video-probe.ts';
import { HIDDEN, ffmpeg, workdir, type Workdir } from './media-fixtures.ts';

/** Bits written most significant first, padded with zeros to a byte. */
function bits(...fields: Array<[number, number]>): Buffer {
  const s = fields.map(([v, n]) => v.toString(2).padStart(n, '0')).join('');
  const padded = s.padEnd(Math.ceil(s.length / 8) * 8, '0');
  return Buffer.from(padded.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
}
const GA: Array<[number, number]> = [[0, 1], [0, 1], [0, 1]]; // frameLength, dependsOnCoreCoder, extension

describe('AudioSpecificConfig', () => {
  it('AAC LC as Apple writes it (2 bytes) and as ffmpeg writes it (SBR absent, signalled) is plain', () => {
    assert.ok(plainAsc(Buffer.from('1210', 'hex')));
    assert.ok(plainAsc(Buffer.from('1190', 'hex')));
    assert.ok(plainAsc(Buffer.from('120856e500', 'hex')));
  });

  it('HE-AAC and HE-AAC v2, signalled explicitly or backward-compatibly, are plain', () => {
    assert.ok(plainAsc(bits([5, 5], [6, 4], [2, 4], [3, 4], [2, 5], ...GA)), 'SBR first');
    assert.ok(plainAsc(bits([29, 5], [6, 4], [1, 4], [3, 4], [2, 5], ...GA)), 'PS first');
    assert.ok(plainAsc(bits([2, 5], [6, 4], [2, 4], ...GA, [0x2b7, 11], [5, 5], [1, 1], [3, 4])), 'SBR after');
    assert.ok(plainAsc(bits([2, 5], [6, 4], [1, 4], ...GA, [0x2b7, 11], [5, 5], [1, 1], [3, 4], [0x548, 11], [1, 1])), 'PS after');
  });

  it('bytes after the end, a program config element, a core coder delay or odd padding are not', () => {
    assert.equal(plainAsc(Buffer.concat([Buffer.from('1210', 'hex'), HIDDEN])), false);
    assert.equal(plainAsc(Buffer.concat([Buffer.from('120856e500', 'hex'), HIDDEN])), false);
    assert.equal(plainAsc(Buffer.from('121000', 'hex')), false, 'a zero byte past the end');
    assert.equal(plainAsc(bits([2, 5], [4, 4], [0, 4], ...GA)), false, 'channel configuration 0: a PCE');
    assert.equal(plainAsc(bits([2, 5], [4, 4], [2, 4], [0, 1], [1, 1], [0x1234, 14], [0, 1])), false, 'core coder');
    assert.equal(plainAsc(Buffer.from('1211', 'hex')), false, 'a set padding bit');
    assert.equal(plainAsc(bits([2, 5], [4, 4], [2, 4], ...GA, [0x2b6, 11], [5, 5], [0, 1])), false, 'unknown sync');
    assert.equal(plainAsc(bits([42, 5])), false, 'an object type we do not read');
    assert.equal(plainAsc(Buffer.alloc(0)), false);
  });
});

describe('Opus, FLAC and ALAC records', () => {
  const opus = Buffer.from('4f707573486561640101380180bb0000000000', 'hex');
  it('an OpusHead is plain at exactly its size, with no gain and a usual input rate', () => {
    assert.ok(plainOpusHead(opus));
    // 6 channels, family 1: 4 streams, 2 coupled, Vorbis order.
    assert.ok(plainOpusHead(Buffer.concat([opus.subarray(0, 9), Buffer.from([6]), opus.subarray(10, 18), Buffer.from([1, 4, 2, 0, 4, 1, 2, 3, 5])])));
  });
  it('an OpusHead is not with anything after, a mapping that names no stream, a gain or an odd input rate', () => {
    assert.equal(plainOpusHead(Buffer.concat([opus, HIDDEN])), false);
    assert.equal(plainOpusHead(Buffer.concat([opus.subarray(0, 9), Buffer.from([2]), opus.subarray(10, 18), Buffer.from([1, 1, 1, 0, 77])])), false);
    assert.equal(plainOpusHead(Buffer.concat([opus.subarray(0, 18), Buffer.from([255]), Buffer.alloc(3)])), false, 'family 255');
    const gain = Buffer.from(opus);
    gain.writeInt16LE(0x4b46, 16); // 'FK'
    assert.equal(plainOpusHead(gain), false, 'an output gain');
    const rate = Buffer.from(opus);
    rate.write('F2LX', 12, 'latin1');
    assert.equal(plainOpusHead(rate), false, 'an input rate that spells a serial');
  });
  it('FLAC and ALAC are never plain: their records hold fields no decoder checks (an MD5, bit rates)', () => {
    assert.equal(plainAudioConfig('flac', Buffer.alloc(34), 'flac'), false);
    assert.equal(plainAudioConfig('alac', Buffer.concat([Buffer.from('00000024616c616300000000', 'hex'), Buffer.alloc(24)]), 'ipod'), false);
  });
  it('a codec that needs a record and came without one is not plain (a muxer would take one from elsewhere)', () => {
    assert.equal(plainAudioConfig('aac', Buffer.alloc(0), 'ipod'), false);
    assert.equal(plainAudioConfig('aac', Buffer.alloc(0), 'matroska'), false);
    assert.equal(plainAudioConfig('opus', Buffer.alloc(0), 'ogg'), false);
    assert.ok(plainAudioConfig('aac', Buffer.alloc(0), 'adts'), 'ADTS frames carry their own headers');
    assert.ok(plainAudioConfig('mp3', Buffer.alloc(0), 'mp3'), 'MP3 has no record');
  });
  it('a record ffmpeg rebuilds in a RIFF header (MP3 in AVI) does not matter; in Matroska it would', () => {
    assert.ok(plainAudioConfig('mp3', HIDDEN, 'avi'));
    assert.equal(plainAudioConfig('mp3', HIDDEN, 'matroska'), false);
    assert.equal(plainAudioConfig('pcm_s16le', HIDDEN, 'wav'), false);
    assert.ok(plainAudioConfig('pcm_s16le', Buffer.alloc(0), 'wav'));
    assert.equal(plainAudioConfig('vorbis', Buffer.alloc(40), 'ogg'), false, 'a codec we cannot read');
    assert.equal(plainAudioConfig('aac', undefined, 'mp4'), false, 'a record we could not read');
  });
});

describe('records encoders write, as ffprobe reads them', () => {
  let w: Workdir;
  before(() => { w = workdir(); });
  after(() => w.remove());
  const TONE = ['-f', 'lavfi', '-i', 'sine=sample_rate=48000:duration=0.5'];
  for (const [codec, ext, format] of [['aac', 'm4a', 'ipod'], ['libopus', 'opus', 'ogg'],
    ['libopus', 'mkv', 'matroska'], ['aac', 'mkv', 'matroska']] as const) {
    it(`${codec} in .${ext} is plain`, async () => {
      const path = w.file(`tone-${codec}.${ext}`);
      ffmpeg(...TONE, '-ac', '2', '-c:a', codec, path);
      const records = await configRecords(path, ext, { ...limitsFor(path, false), fileBytes: 0 });
      const r = records?.byIndex.get(0);
      assert.ok(r && r.bytes.length > 0 && records!.sure);
      assert.ok(plainAudioConfig(r.codec, r.bytes, format), r.bytes.toString('hex'));
    });
  }

  it('the output check finds the approved record in a remux, and tells a different one', async () => {
    const a = w.file('check-48k.m4a');
    const b = w.file('check-44k.m4a');
    ffmpeg(...TONE, '-ac', '2', '-c:a', 'aac', a);
    ffmpeg('-f', 'lavfi', '-i', 'sine=sample_rate=44100:duration=0.5', '-ac', '2', '-c:a', 'aac', b);
    const approved = (await configRecords(a, 'm4a', { ...limitsFor(a, false), fileBytes: 0 }))!.byIndex.get(0)!.bytes;
    assert.ok(await copiedRecordsKept(a, 'm4a', [{ out: 0, bytes: approved }]));
    assert.equal(await copiedRecordsKept(b, 'm4a', [{ out: 0, bytes: approved }]), false, 'another record');
    assert.equal(await copiedRecordsKept(b, 'm4a', [{ out: 1, bytes: approved }]), false, 'no such track');
    assert.ok(await copiedRecordsKept(b, 'm4a', []), 'nothing copied, nothing to check');
  });
});
