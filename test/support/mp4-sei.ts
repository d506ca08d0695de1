/**
 * An H.264 fast-start MP4 whose every frame carries `n` user-data SEI units (one marker each) before
 * its slices: what the SEI scrub and the early remux must blank, in a number a test chooses.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

export const SEI_MARKER = 'SEI-MARKER-QX9';
const START = Buffer.from([0, 0, 1]);

function ffmpeg(...args: string[]): void {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-nostdin', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Writes `<base>.mp4` (4 s, 100 frames) and returns its path; `<base>.h264` is left beside it. */
export function manySeiMp4(base: string, n: number): string {
  const annexB = `${base}.h264`;
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', annexB);
  const payload = Buffer.concat([Buffer.alloc(16, 7), Buffer.from(SEI_MARKER, 'latin1')]);
  const sei = Buffer.concat([Buffer.from([0, 0, 0, 1, 6, 5, payload.length]), payload, Buffer.from([0x80])]);
  const data = readFileSync(annexB);
  const parts: Buffer[] = [];
  let last = 0;
  for (let i = data.indexOf(START); i >= 0; i = data.indexOf(START, i + 3)) {
    const type = data[i + 3]! & 0x1f;
    if (type === 1 || type === 5) {
      parts.push(data.subarray(last, i), ...Array<Buffer>(n).fill(sei));
      last = i;
    }
  }
  parts.push(data.subarray(last));
  writeFileSync(annexB, Buffer.concat(parts));
  const out = `${base}.mp4`;
  ffmpeg('-f', 'h264', '-r', '25', '-i', annexB, '-c', 'copy', '-movflags', '+faststart', out);
  return out;
}
