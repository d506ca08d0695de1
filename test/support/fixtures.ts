/** Dirty files made inside the tests, with real tools: no checked-in fixtures. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

/** A 64×48 JPEG with GPS, Make, Model and a serial number planted by exiftool. */
export async function dirtyJpeg(dir: string, name = 'IMG_20220526_134512.jpg'): Promise<string> {
  const path = join(dir, name);
  await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 40, b: 40 } } }).jpeg().toFile(path);
  execFileSync('exiftool', ['-q', '-overwrite_original', '-GPSLatitude=31.7619', '-GPSLatitudeRef=N', '-GPSLongitude=106.4850',
    '-GPSLongitudeRef=W', '-Make=PLANTEDMAKE', '-Model=PLANTEDMODEL', '-SerialNumber=SERIAL-7731-ZX', path]);
  return path;
}

export function exifTags(path: string): Record<string, unknown> {
  const out = execFileSync('exiftool', ['-j', '-a', '-G1', path]).toString();
  return (JSON.parse(out) as Record<string, unknown>[])[0]!;
}

export function bytesOf(path: string): Buffer {
  return readFileSync(path);
}
