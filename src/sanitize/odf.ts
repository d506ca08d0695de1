/**
 * ODT and ODS (OpenDocument): the package is read entry by entry and written anew, never patched.
 *
 * Threat: meta.xml names the initial creator and last editor, with dates, edit time, edit count and
 * the generator (LibreOffice build and OS); settings.xml names the printer and carries its driver
 * blob; Thumbnails/ shows page one as last saved; annotations and tracked changes carry dc:creator,
 * dc:date and initials; linked pictures can point at file:///home/<name>/...; pictures keep EXIF/GPS;
 * document signatures carry the signer's certificate.
 * Defence: meta.xml and settings.xml are replaced by empty ones; thumbnails and signatures are
 * removed (and unlisted from the manifest, which LibreOffice checks); authors become "Autor N",
 * dates a fixed epoch; local links are blanked; pictures are re-encoded. `mimetype` stays the first
 * entry, stored uncompressed, as the format requires. Password-protected packages are refused.
 */
import { rm } from 'node:fs/promises';
import { CleaningFailed } from '../errors.ts';
import type { Cleaner } from './types.ts';
import { readZipEntries } from './zip-read.ts';
import { writeZip } from './zip-write.ts';
import type { OutEntry } from './zip-write.ts';
import { cleanEmbeddedPicture } from './zip-media.ts';
import { Pseudonyms } from './office-xml.ts';
import type { Counts } from './office-xml.ts';

const MIMETYPES: Record<string, string> = {
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
};
const DROPPED = /^(Thumbnails\/|META-INF\/(documentsignatures|macrosignatures|packagesignatures)\.xml$|Basic\/|Scripts\/)/;
const PICTURE = /^(.*\/)?(Pictures|ObjectReplacements)\/[^/]+$/;
const FIXED_DATE = '1970-01-01T00:00:00';

const bump = (c: Counts, k: string, n = 1): void => { c[k] = (c[k] ?? 0) + n; };

function emptyMeta(original: string): string {
  const version = /office:version="(\d\.\d)"/.exec(original)?.[1] ?? '1.3';
  return '<?xml version="1.0" encoding="UTF-8"?>\n<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ' +
    `office:version="${version}"><office:meta/></office:document-meta>`;
}

function emptySettings(original: string): string {
  const version = /office:version="(\d\.\d)"/.exec(original)?.[1] ?? '1.3';
  return '<?xml version="1.0" encoding="UTF-8"?>\n<office:document-settings xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ' +
    `office:version="${version}"><office:settings/></office:document-settings>`;
}

/** Annotation and tracked-change authors, dates and initials; links to the tipster's disk. */
function scrubOdfXml(xml: string, p: Pseudonyms, c: Counts): string {
  // One pass in document order, so initials follow the creator named just before them.
  let lastCreator = '';
  return xml
    .replace(/<dc:creator>([^<]*)<\/dc:creator>|<meta:creator-initials>([^<]*)<\/meta:creator-initials>/g, (_m, creator?: string, initials?: string) => {
      if (creator !== undefined) { lastCreator = creator; bump(c, 'author'); return `<dc:creator>${p.label(creator)}</dc:creator>`; }
      bump(c, 'author_initials');
      return `<meta:creator-initials>${p.initials(lastCreator || (initials ?? ''))}</meta:creator-initials>`;
    })
    .replace(/<dc:date>[^<]*<\/dc:date>/g, () => { bump(c, 'revision_date'); return `<dc:date>${FIXED_DATE}</dc:date>`; })
    .replace(/(\sxlink:href\s*=\s*)("(?:file:|\/|[A-Za-z]:|(?:\.\.\/){2,})[^"]*")/gi, (_m, a: string) => { bump(c, 'local_path'); return `${a}"removed"`; });
}

function pruneManifest(xml: string, dropped: Set<string>): string {
  return xml.replace(/<manifest:file-entry\b[^>]*?\/>|<manifest:file-entry\b[^>]*?>[\s\S]*?<\/manifest:file-entry>/g, (tag) => {
    const path = /manifest:full-path="([^"]*)"/.exec(tag)?.[1] ?? '';
    const droppedFolder = path.endsWith('/') && path !== '/' && DROPPED.test(path);
    return dropped.has(path) || droppedFolder ? '' : tag;
  });
}

export const cleanOdf: Cleaner = async (input, sniffed, scratch) => {
  const type = sniffed.ext;
  const refuse = (reason: string): never => { throw new CleaningFailed({ type }, reason); };
  const expected = MIMETYPES[type] ?? refuse('not an OpenDocument type we take');
  const entries = await readZipEntries(input, type);
  const byName = new Map(entries.map((e) => [e.name, e]));
  if (byName.get('mimetype')?.data.toString('latin1') !== expected) refuse('mimetype entry missing or wrong');
  const manifest = byName.get('META-INF/manifest.xml')?.data.toString('utf8') ?? refuse('manifest missing');
  if (!byName.has('content.xml')) refuse('content.xml missing');
  if (/<manifest:encryption-data\b/.test(manifest)) refuse('password-protected document');

  const counts: Counts = {};
  const warnings = new Set<string>();
  const dropped = new Set<string>();
  for (const e of entries) {
    const known = e.name === 'mimetype' || /\.(xml|rdf)$/i.test(e.name) || PICTURE.test(e.name) || /^Configurations2\//.test(e.name);
    if (DROPPED.test(e.name)) { dropped.add(e.name); bump(counts, 'metadata_part'); }
    else if (!known) {
      dropped.add(e.name); bump(counts, 'uncleanable_part');
      warnings.add('Some embedded objects could not be cleaned and were removed');
    }
  }

  const pseudonyms = new Pseudonyms();
  const out: OutEntry[] = [{ name: 'mimetype', data: Buffer.from(expected, 'latin1'), store: true }];
  for (const e of entries) {
    if (e.name === 'mimetype' || dropped.has(e.name)) continue;
    const text = (): string => e.data.toString('utf8');
    let data = e.data;
    if (e.name === 'META-INF/manifest.xml') data = Buffer.from(pruneManifest(text(), dropped), 'utf8');
    else if (/(^|\/)meta\.xml$/.test(e.name)) { data = Buffer.from(emptyMeta(text()), 'utf8'); bump(counts, 'document_meta'); }
    else if (/(^|\/)settings\.xml$/.test(e.name)) { data = Buffer.from(emptySettings(text()), 'utf8'); bump(counts, 'settings'); }
    else if (/\.(xml|rdf)$/i.test(e.name)) data = Buffer.from(scrubOdfXml(text(), pseudonyms, counts), 'utf8');
    else if (PICTURE.test(e.name)) {
      const pic = await cleanEmbeddedPicture(e.data, scratch);
      data = pic.data;
      bump(counts, pic.blanked ? 'picture_blanked' : 'picture_metadata');
      if (pic.blanked) warnings.add('Some pictures in a format we cannot clean were replaced by blanks');
    }
    out.push({ name: e.name, data });
  }
  const output = scratch.path('.' + type);
  try { await writeZip(out, output); } catch (e) {
    await rm(output, { force: true });
    refuse('could not write the cleaned package: ' + String(e));
  }
  return { path: output, kind: 'document', ext: type, report: { removed: counts, warnings: [...warnings] } };
};
