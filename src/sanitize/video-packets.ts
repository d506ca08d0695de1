/**
 * Where a packet lies in the file, read from ffprobe's packet listing (video-probe.ts listPackets).
 *
 * Threat: the listing is ffprobe's reading of a hostile file, and the SEI scrub overwrites bytes at
 * these places while the early remux's check trusts them to prove what ffmpeg read. ffprobe prints
 * `pos` and `size` as decimal strings, and N/A or nothing where it does not know them; a packet whose
 * place is anything else is one we cannot locate, and every caller refuses the file rather than guess.
 */

const DIGITS = /^\d+$/;

/**
 * The byte offset and size of one entry of the listing, when both are strings of ASCII digits; else
 * undefined (a number, a sign, a fraction, N/A, a missing field or an entry that is no object).
 * Digits past Number.MAX_SAFE_INTEGER are not refused here and round; no file is that large, and
 * every caller bounds pos + size by the file's own size, which refuses them.
 */
export function packetSpan(entry: unknown): [pos: number, size: number] | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { pos, size } = entry as { pos?: unknown; size?: unknown };
  if (typeof pos !== 'string' || typeof size !== 'string' || !DIGITS.test(pos) || !DIGITS.test(size)) return undefined;
  return [Number(pos), Number(size)];
}
