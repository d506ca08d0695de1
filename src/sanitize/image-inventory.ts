/**
 * What a photo carried before we cleaned it, counted by category, for the editors' manifest.
 *
 * Threat: an editor who cannot see what was removed cannot judge what a photo may still reveal, and
 * a report that claims removals the file never had teaches editors to ignore it. Defence: we ask
 * exiftool (a child under prlimit, never our process) which tags the input really holds, and count
 * them. Only counts leave this module: tag values (a serial, a position) are never kept or logged.
 * Limit: the counts are informational. Cleaning does not depend on them; the re-encode drops
 * everything whether or not exiftool recognised it.
 */
import { runTool } from './subprocess.ts';

/** Families (exiftool group 0) that are the container's own structure, not metadata about anyone. */
const STRUCTURAL = new Set(['ExifTool', 'System', 'File', 'Composite', 'JFIF', 'QuickTime', 'Meta', 'RIFF', 'GIF', 'PNG']);

const PNG_STRUCTURE = /^(ImageWidth|ImageHeight|BitDepth|ColorType|Compression|Filter|Interlace|Gamma|SRGBRendering|WhitePoint.*|Red.|Green.|Blue.|Palette.*|Transparency|BackgroundColor|SignificantBits|AnimationFrames|AnimationPlays)$/;

/** TIFF keeps its own layout in IFD0; these say how to read the pixels, not who made them. */
const TIFF_STRUCTURE = /^(ImageWidth|ImageHeight|BitsPerSample|Compression|PhotometricInterpretation|StripOffsets|SamplesPerPixel|RowsPerStrip|StripByteCounts|PlanarConfiguration|XResolution|YResolution|ResolutionUnit|FillOrder|ExtraSamples|SampleFormat|Predictor|TileWidth|TileLength|TileOffsets|TileByteCounts|YCbCrPositioning|YCbCrSubSampling)$/;

const THUMBNAIL_TAGS = /^(ThumbnailImage|PreviewImage|JpgFromRaw|ThumbnailTIFF|OtherImage|PreviewTIFF)$/;

/** The category a tag is counted under, or undefined when it says nothing about the source. */
export function categoryOf(key: string): string | undefined {
  const parts = key.split(':');
  const tag = parts[parts.length - 1] ?? '';
  const family0 = parts[0] ?? '';
  const family1 = parts.length > 2 ? (parts[1] ?? '') : '';
  if (key === 'SourceFile') return undefined;
  if (THUMBNAIL_TAGS.test(tag)) return 'thumbnail';
  if (family0 === 'EXIF' && TIFF_STRUCTURE.test(tag)) return undefined;
  if (family1 === 'GPS' || family1 === 'XMP-exif' && tag.startsWith('GPS')) return 'gps';
  if (family0 === 'EXIF') return 'exif';
  if (family0 === 'XMP') return 'xmp';
  if (family0 === 'IPTC') return 'iptc';
  if (family0 === 'Photoshop') return 'photoshop_irb';
  if (family0 === 'MakerNotes') return 'maker_notes';
  if (family0 === 'ICC_Profile') return 'icc_profile';
  if (family0 === 'PNG' && tag === 'ModifyDate') return 'png_time';
  // JPEG COM segments, GIF comment extensions and PNG tEXt/iTXt/zTXt chunks are free text that an
  // app or a person chose; a PNG text chunk may have any keyword, so anything not structural counts.
  if (tag === 'Comment') return 'comment';
  if (family0 === 'PNG' && family1 === '' && !PNG_STRUCTURE.test(tag)) return 'comment';
  if (STRUCTURAL.has(family0)) return undefined;
  // Anything else exiftool found (FlashPix, Adobe, APP segments...) is still metadata we removed.
  return 'other';
}

/**
 * Counts the input's metadata by category. Returns an empty record when exiftool cannot read the
 * file: the cleaner then decides, by decoding it, whether the file is broken.
 */
export async function inventory(input: string): Promise<Record<string, number>> {
  const r = await runTool('exiftool', ['-j', '-a', '-G0:1', '-n', '-m', '-q', '--', input], {
    timeoutMs: 30_000,
    memoryBytes: 512 * 1024 ** 2,
    cpuSeconds: 30,
    fileBytes: 0,
  });
  if (r.code !== 0 && r.stdout.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.stdout.toString('utf8'));
  } catch {
    return {};
  }
  const first: unknown = Array.isArray(parsed) ? parsed[0] : undefined;
  if (typeof first !== 'object' || first === null) return {};
  const counts: Record<string, number> = {};
  for (const key of Object.keys(first)) {
    const c = categoryOf(key);
    if (c) counts[c] = (counts[c] ?? 0) + 1;
  }
  return counts;
}
