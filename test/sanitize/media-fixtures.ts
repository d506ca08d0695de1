/**
 * Dirty media made inside the tests: ffmpeg draws the pixels and tones, exiftool and ffmpeg plant
 * the kind of metadata a phone writes, with distinctive markers that a raw byte search can find.
 * Nothing here is checked in; everything lives in a RAM-backed folder that each suite removes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createScratch } from '../../src/sanitize/scratch.ts';
import type { Scratch } from '../../src/sanitize/types.ts';
import { cleanVideoStream } from '../../src/sanitize/video-stream.ts';

/** Values no clean file could contain by chance. */
export const MARK = {
  serial: 'SERIAL-7731-ZX',
  make: 'MAKER-QX9',
  model: 'MODEL-QX9',
  owner: 'OWNER-QX9',
  artist: 'ARTIST-QX9',
  xmp: 'XMPCREATOR-QX9',
  iptc: 'IPTCBYLINE-QX9',
  comment: 'COMMENT-QX9',
  date: '2011:11:11 11:11:11',
  iso6709: '+40.4168-003.7038/',
  title: 'TITLE-QX9',
  subtitle: 'TELEMETRY-QX9',
} as const;

export interface Workdir {
  dir: string;
  scratch: Scratch;
  file(name: string): string;
  remove(): void;
}

export function workdir(): Workdir {
  const dir = mkdtempSync('/dev/shm/buzon-media-test-');
  return {
    dir,
    scratch: createScratch(dir),
    file: (name) => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function run(cmd: string, args: string[]): Buffer {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

export function ffmpeg(...args: string[]): void {
  run('ffmpeg', ['-v', 'error', '-y', '-nostdin', ...args]);
}

/** A test pattern photo of the given size, in whatever format the extension names. */
export function drawPhoto(path: string, width: number, height: number, extra: string[] = []): string {
  ffmpeg('-f', 'lavfi', '-i', `testsrc=size=${width}x${height}`, '-frames:v', '1', ...extra, path);
  return path;
}

/** Plants what a phone and an editing app write: camera, owner, time, place, thumbnail, captions. */
export function plantPhotoTags(path: string, thumb: string, opts: { orientation?: number; iptc?: boolean } = {}): void {
  const args = [
    '-q', '-m', '-overwrite_original',
    `-Make=${MARK.make}`, `-Model=${MARK.model}`, `-SerialNumber=${MARK.serial}`,
    `-OwnerName=${MARK.owner}`, `-Artist=${MARK.artist}`, `-DateTimeOriginal=${MARK.date}`,
    '-GPSLatitude=40.4168', '-GPSLatitudeRef=N', '-GPSLongitude=3.7038', '-GPSLongitudeRef=W',
    `-XMP-dc:Creator=${MARK.xmp}`, `-ThumbnailImage<=${thumb}`,
  ];
  if (opts.orientation) args.push(`-Orientation#=${opts.orientation}`);
  if (opts.iptc) args.push(`-IPTC:By-line=${MARK.iptc}`);
  run('exiftool', [...args, path]);
}

/** exiftool's view of a file, every group, as JSON. */
export function exifOf(path: string): Record<string, unknown> {
  // exiftool exits 1 on formats it does not know (AMR) but still prints what it could read.
  const r = spawnSync('exiftool', ['-j', '-a', '-G1', '-m', path], { encoding: 'utf8' });
  const parsed: unknown = JSON.parse(r.stdout);
  const first: unknown = Array.isArray(parsed) ? parsed[0] : undefined;
  if (typeof first !== 'object' || first === null) throw new Error('exiftool gave no object');
  return Object.fromEntries(Object.entries(first));
}

/** Tag names that would identify a tipster or their device, wherever exiftool finds them. */
export const IDENTIFYING_TAG =
  /GPS|Make|Model|Serial|Owner|Artist|Creator|By-line|Comment|DateTimeOriginal|CreateDate|Thumbnail|Preview|Author|Location|ISO6709|Software|Encoder|Title|Orientation|Rotation/i;

/** Values a muxer writes when it has nothing to say: zeroed dates, no rotation, no preview. */
const EMPTY_VALUE = /^(0000:00:00 00:00:00|0|0 s|Horizontal \(normal\)|Lav[fc]( [a-z0-9_]+)?|)$/;

export function identifyingTags(path: string): string[] {
  return Object.entries(exifOf(path))
    .filter(([k, v]) => !k.startsWith('System:') && !k.startsWith('File:') && IDENTIFYING_TAG.test(k))
    .filter(([, v]) => !EMPTY_VALUE.test(String(v)))
    .map(([k]) => k);
}

/** Every planted marker that still appears anywhere in the file's bytes. */
export function markersIn(path: string, markers: readonly string[] = Object.values(MARK)): string[] {
  const bytes = readFileSync(path);
  return markers.filter((m) => bytes.includes(Buffer.from(m, 'latin1')));
}

export interface ProbedStream {
  codec_type: string;
  codec_name?: string;
  width?: number;
  height?: number;
  disposition?: Record<string, number>;
  tags?: Record<string, string>;
  bit_rate?: string;
}
export interface Probed {
  streams: ProbedStream[];
  format: { duration?: string; format_name?: string; tags?: Record<string, string> };
  chapters: unknown[];
}

export function probe(path: string): Probed {
  const out = run('ffprobe', ['-v', 'error', '-of', 'json', '-show_format', '-show_streams', '-show_chapters', path]);
  const p = JSON.parse(out.toString('utf8')) as Probed;
  return p;
}

/** True when ffmpeg decodes every frame of every stream without a single error. */
export function decodesCleanly(path: string): boolean {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', path, '-f', 'null', '-'], { encoding: 'utf8' });
  return r.status === 0 && r.stderr.trim() === '';
}

/** The first half of a file: what a dropped upload or a crafted stub looks like. */
export function truncate(src: string, dest: string): string {
  const b = readFileSync(src);
  writeFileSync(dest, b.subarray(0, Math.floor(b.length / 2)));
  return dest;
}

/** What the streamed video cleaner (MP4/MOV straight into the seal) makes of `path`, whole. */
export async function streamCleaned(path: string): Promise<{ out: Buffer; removed: Record<string, number>; warnings: string[] }> {
  const cleaned = await cleanVideoStream(path, { ext: 'mp4', mime: 'video/mp4' });
  const parts: Buffer[] = [];
  for await (const c of cleaned.stream) parts.push(c as Buffer);
  await cleaned.done;
  return { out: Buffer.concat(parts), removed: cleaned.report.removed, warnings: cleaned.report.warnings };
}

/** What a crafted file hides in a codec configuration record, for a raw byte search. */
export const HIDDEN = Buffer.from('GPS 31.7619 -106.4850 SERIAL F2LXK', 'latin1');

/** The MD5 of each audio stream's packets, in order: equal when the audio was copied bit for bit. */
export function audioPacketsMd5(path: string): string {
  return run('ffmpeg', ['-v', 'error', '-nostdin', '-i', path, '-map', '0:a', '-c', 'copy', '-f', 'streamhash', '-hash', 'md5', '-'])
    .toString('latin1').replace(/^\d+,/gm, '');
}

/** The MD5 of the decoded audio: equal when a lossless re-encode kept every sample. */
export function decodedMd5(path: string): string {
  return run('ffmpeg', ['-v', 'error', '-nostdin', '-i', path, '-map', '0:a', '-f', 'md5', '-']).toString('latin1').trim();
}

/**
 * A WAV whose fmt chunk carries `extra` as a WAVEFORMATEX extension (cbSize bytes after the fields
 * PCM needs), the way ffmpeg's WAV and AVI writers copy any extension they do not build themselves.
 */
export function wavWithFmtExtension(wav: Buffer, extra: Buffer): Buffer {
  const at = wav.indexOf('fmt ', 12, 'latin1');
  const size = wav.readUInt32LE(at + 4);
  let fmt = Buffer.from(wav.subarray(at + 8, at + 8 + size));
  if (size === 16) fmt = Buffer.concat([fmt, Buffer.alloc(2)]);
  fmt.writeUInt16LE(fmt.readUInt16LE(16) + extra.length, 16);
  fmt = Buffer.concat([fmt, extra, Buffer.alloc((fmt.length + extra.length) % 2)]);
  const head = Buffer.alloc(8);
  head.write('fmt ', 'latin1');
  head.writeUInt32LE(fmt.length, 4);
  const out = Buffer.concat([wav.subarray(0, at), head, fmt, wav.subarray(at + 8 + size + (size % 2))]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}

