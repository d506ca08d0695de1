import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { scrubSeiInPlace } from '../../src/sanitize/video-sei-scrub.ts';
import { stripHvccSei } from '../../src/sanitize/video-hvcc.ts';
import { BITEXACT, NO_METADATA, listPackets, probe } from '../../src/sanitize/video-probe.ts';
import { planRemux } from '../../src/sanitize/video-plan.ts';
import { ffmpeg, run, truncate, workdir } from './media-fixtures.ts';
import type { Workdir } from './media-fixtures.ts';

let w: Workdir;
before(() => { w = workdir(); });
after(() => w.remove());

type Codec = 'h264' | 'hevc';
const SEI: Record<Codec, number[]> = { h264: [6], hevc: [39, 40] };
const FILLER: Record<Codec, number> = { h264: 12, hevc: 38 };

/** A test pattern encoded by libx264/libx265 with the given encoder options. */
function encoded(name: string, codec: Codec, params: string, seconds = 1, extra: string[] = []): string {
  const path = w.file(name);
  const enc = codec === 'h264' ? ['-c:v', 'libx264', '-x264-params', params] : ['-c:v', 'libx265', '-x265-params', `log-level=none:${params}`];
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', ...extra, '-t', String(seconds), ...enc, path);
  return path;
}

const has = (path: string, s: string): boolean => readFileSync(path).includes(Buffer.from(s, 'latin1'));

/** NAL unit types in the frames of the first video stream (not its avcC/hvcC), as ffmpeg's own parser sees them. */
function frameNalTypes(path: string): number[] {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-nostats', '-i', path, '-map', '0:v:0', '-c', 'copy', '-bsf:v', 'trace_headers', '-f', 'null', '-'],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const frames = r.stderr.slice(r.stderr.indexOf('] Packet:'));
  return [...frames.matchAll(/ nal_unit_type +[01]+ = (\d+)$/gm)].map((m) => Number(m[1]));
}
const count = (types: number[], wanted: number[]): number => types.filter((t) => wanted.includes(t)).length;

/** What ffmpeg decodes, frame by frame, as MD5s. */
function framemd5(path: string, map = '0:v'): string {
  return run('ffmpeg', ['-v', 'error', '-nostdin', '-i', path, '-map', map, ...(map === '0:a' ? ['-c', 'copy'] : []), '-f', 'framemd5', '-']).toString();
}

function decodeErrors(path: string): string {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-xerror', '-i', path, '-f', 'null', '-'], { encoding: 'utf8' });
  return `${r.status === 0 ? '' : `exit ${r.status}`}${r.stderr}`;
}

/** [pos, size] of every packet of the first video stream. */
function videoPackets(path: string): Array<[number, number]> {
  const out = run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pos,size', '-of', 'json', path]);
  const json = JSON.parse(out.toString()) as { packets: Array<{ pos: string; size: string }> };
  return json.packets.map((p) => [Number(p.pos), Number(p.size)]);
}

describe('SEI units in frames are overwritten by filler of the same length', () => {
  const cases: Array<[string, Codec, string, string]> = [
    ['x264 defaults, MP4', 'h264', 'mp4', ''],
    ['x264 with HRD SEI in every frame and several keyframes, MOV', 'h264', 'mov', 'nal-hrd=vbr:vbv-bufsize=500:vbv-maxrate=500:keyint=3'],
    ['x264 with 3 slices and its own CBR filler, MP4', 'h264', 'mp4', 'slices=3:nal-hrd=cbr:bitrate=300:vbv-bufsize=300:vbv-maxrate=300'],
    ['x265 with its signature in the first frame, MP4', 'hevc', 'mp4', 'repeat-headers=1'],
    ['x265 with prefix and suffix SEI in every frame, MOV', 'hevc', 'mov', 'repeat-headers=1:hash=1:hrd=1:vbv-bufsize=500:vbv-maxrate=500:keyint=3'],
  ];
  cases.forEach(([title, codec, ext, params], i) => {
    it(title, async () => {
      const signature = codec === 'h264' ? 'x264' : 'x265';
      const original = encoded(`orig-${codec}-${i}.${ext}`, codec, params);
      const path = w.file(`scrub-${codec}-${i}.${ext}`);
      copyFileSync(original, path);
      const before = frameNalTypes(original);
      const sei = count(before, SEI[codec]);
      assert.ok(sei > 0, 'the encoder wrote SEI into the frames');

      const n = await scrubSeiInPlace(path, [{ index: 0, codec }]);
      assert.equal(n, sei);
      const after = frameNalTypes(path);
      assert.equal(count(after, SEI[codec]), 0);
      const others = (types: number[]): number[] => types.filter((t) => !SEI[codec].includes(t) && t !== FILLER[codec]);
      assert.deepEqual(others(after), others(before), 'no other unit changed');
      if (codec === 'h264') assert.equal(count(after, [12]), count(before, [12]) + sei, 'each SEI is now filler');
      assert.equal(readFileSync(path).length, readFileSync(original).length);
      assert.equal(framemd5(path), framemd5(original));
      assert.equal(decodeErrors(path), '');
      assert.equal(await scrubSeiInPlace(path, [{ index: 0, codec }]), 0, 'a second pass finds nothing');

      // The caller's path: a -c copy remux with no filter and no tags, then the hvcC SEI taken out. No signature may remain;
      // the same steps on the unscrubbed original prove the frames did carry one.
      const remux = (src: string, name: string): string => {
        const out = w.file(name);
        ffmpeg('-i', src, '-map', '0', '-c', 'copy', ...NO_METADATA, ...BITEXACT, out);
        return out;
      };
      const cleaned = remux(path, `remux-${codec}-${i}.${ext}`);
      const control = remux(original, `control-${codec}-${i}.${ext}`);
      if (codec === 'hevc') {
        assert.ok(await stripHvccSei(cleaned) > 0);
        await stripHvccSei(control);
      }
      assert.equal(has(cleaned, signature), false);
      assert.equal(has(control, signature), true);
    });
  });

  it('a video with audio: only the video stream is touched', async () => {
    const original = encoded('av.mp4', 'h264', 'nal-hrd=vbr:vbv-bufsize=500:vbv-maxrate=500', 2, ['-f', 'lavfi', '-i', 'sine=frequency=440', '-c:a', 'aac']);
    const path = w.file('av-scrub.mp4');
    copyFileSync(original, path);
    const sei = count(frameNalTypes(original), [6]);
    assert.equal(await scrubSeiInPlace(path, [{ index: 0, codec: 'h264' }]), sei);
    assert.equal(has(path, 'x264 - core'), false, 'the SEI signature is gone (the encoder tag of the track is not our job)');
    assert.ok(has(original, 'x264 - core'));
    assert.equal(framemd5(path, '0:a'), framemd5(original, '0:a'));
    assert.equal(framemd5(path), framemd5(original));
    assert.equal(readFileSync(path).length, readFileSync(original).length);
  });
});

describe("the cleaner's path: one ffprobe run for the plan and the scrub", () => {
  it('lists what probe() lists, and the plan blanks SEI with no filter even with AAC side data in the audio packets', async () => {
    const original = encoded('plan-av.mp4', 'h264', 'nal-hrd=vbr:vbv-bufsize=500:vbv-maxrate=500', 2, ['-f', 'lavfi', '-i', 'sine=frequency=440', '-c:a', 'aac']);
    const path = w.file('plan-av-scrub.mp4');
    copyFileSync(original, path);
    const listed = await listPackets(path, 'mp4');
    assert.ok(listed?.packets, 'ffprobe listed every packet without a complaint');
    assert.deepEqual(listed.probe, await probe(path, 'mp4'));
    assert.ok(listed.packets.some((p) => JSON.stringify(p).includes('side_data')), 'the fixture has packet side data (AAC skip samples)');
    const plan = await planRemux(path, { ext: 'mp4' } as Parameters<typeof planRemux>[1]);
    assert.equal(plan.removed.sei, count(frameNalTypes(original), [6]));
    assert.equal(plan.args.some((a) => a.startsWith('-bsf')), false);
    assert.equal(has(path, 'x264 - core'), false);
  });

  it('a listing ffprobe was unsure of is not used', async () => {
    const path = encoded('unsure.mp4', 'h264', '');
    const listed = await listPackets(path, 'mp4');
    assert.ok(listed);
    const bytes = readFileSync(path);
    assert.equal(await scrubSeiInPlace(path, [{ index: 0, codec: 'h264' }], { streams: listed.probe.streams, packets: undefined }), undefined);
    assert.ok(readFileSync(path).equals(bytes));
  });
});

describe('files we cannot be sure of are refused and left untouched', () => {
  /** Runs the scrub on `path` and checks it refused without writing a byte. */
  async function refused(path: string, codec: Codec = 'h264'): Promise<void> {
    const bytes = readFileSync(path);
    assert.equal(await scrubSeiInPlace(path, [{ index: 0, codec }]), undefined);
    assert.ok(readFileSync(path).equals(bytes), 'the file is byte-for-byte untouched');
  }
  /**
   * A 3-second x264 MP4 (SEI in every frame) with one 4-byte NAL length field of its last video sample
   * rewritten. The last sample, because ffprobe parses the first few and would complain by itself.
   */
  function withLength(name: string, which: 'first' | 'last', value: (old: number, sampleSize: number) => number): string {
    const path = encoded(name, 'h264', 'nal-hrd=vbr:vbv-bufsize=500:vbv-maxrate=500', 3);
    const [pos, size] = videoPackets(path).sort((a, b) => a[0] - b[0]).at(-1)!;
    const bytes = readFileSync(path);
    const fields: number[] = [];
    for (let p = pos; p < pos + size; p += 4 + bytes.readUInt32BE(p)) fields.push(p);
    const at = which === 'first' ? fields[0]! : fields.at(-1)!;
    bytes.writeUInt32BE(value(bytes.readUInt32BE(at), size), at);
    writeFileSync(path, bytes);
    return path;
  }

  it('a truncated file (moov at the end, so none)', async () => {
    await refused(truncate(encoded('trunc-src.mp4', 'h264', '', 3), w.file('trunc.mp4')));
  });

  it('a truncated file whose samples run past its end (moov first)', async () => {
    const src = encoded('fast-src.mp4', 'h264', '', 3, []);
    const fast = w.file('fast.mp4');
    ffmpeg('-i', src, '-c', 'copy', '-movflags', '+faststart', fast);
    await refused(truncate(fast, w.file('fast-trunc.mp4')));
  });

  it('a NAL unit whose length runs past its sample', async () => {
    await refused(withLength('past.mp4', 'first', (_, size) => size));
  });

  it('a zero-length NAL unit', async () => {
    await refused(withLength('zero.mp4', 'first', () => 0));
  });

  it('two stray bytes after the last NAL unit of a sample, which ffmpeg itself skips without a word', async () => {
    const path = withLength('stray.mp4', 'last', (old) => old - 2);
    assert.equal(decodeErrors(path), '');
    await refused(path);
  });

  it('H.264 stored as Annex B in a MOV (no avcC)', async () => {
    const path = w.file('annexb.mov');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '1', '-c:v', 'libx264', '-flags', '-global_header', '-tag:v', 'ai12', '-f', 'mov', path);
    assert.equal(decodeErrors(path), '', 'a valid file');
    assert.ok(has(path, 'x264'));
    await refused(path);
  });

  it('a stream that is not the codec the caller named', async () => {
    await refused(encoded('wrong.mp4', 'h264', ''), 'hevc');
  });

  it('a Matroska file (frames are not at plain file offsets)', async () => {
    await refused(encoded('clip.mkv', 'h264', ''));
  });
});
