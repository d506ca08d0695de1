/**
 * DOCX, XLSX and PPTX: the package is read entry by entry and written anew, never patched.
 *
 * Threat: an Office file names its people many times over. docProps/core.xml and app.xml hold the
 * author, last editor, company, manager, template and edit times; custom.xml whatever the company
 * adds (employee ids, classification labels); comments and tracked changes carry authors and dates;
 * rsids link copies; pictures keep their EXIF/GPS; thumbnails show page one as it was saved,
 * including edits made after; printerSettings name the office printer; customXml carries
 * SharePoint/DMS ids; embedded workbooks carry all of this again.
 * Defence: metadata parts are removed (with their relationships and content-type entries, so the
 * file opens cleanly); authors become "Autor N"; dates, rsids and ids go; pictures are re-encoded;
 * embedded Office packages are cleaned the same way; any part we cannot clean (OLE objects, macros,
 * ActiveX) is removed and a warning says so. The zip limits in zip-read.ts refuse bombs.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { CleaningFailed } from '../errors.ts';
import type { CleanReport, Cleaner, Scratch } from './types.ts';
import { readZipEntries } from './zip-read.ts';
import type { ZipEntry } from './zip-read.ts';
import { writeZip } from './zip-write.ts';
import type { OutEntry } from './zip-write.ts';
import { cleanEmbeddedPicture } from './zip-media.ts';
import { Pseudonyms, scrubOfficeXml } from './office-xml.ts';
import type { Counts } from './office-xml.ts';
import { ownerOfRels, pruneContentTypes, pruneRels } from './office-rels.ts';

/** Parts removed outright: they are metadata, not content. */
const METADATA_PART = /^(docProps\/|customXml\/|\[trash\]\/)|\/printerSettings\/|(^|\/)thumbnail\.[a-z]+$/i;
/** Parts kept after scrubbing (XML), or kept as they are (fonts carry no author). */
const XML_PART = /\.(xml|rels|vml)$/i;
const FONT_PART = /\/fonts\/[^/]+\.(odttf|ttf|otf|fntdata)$/i;
const MEDIA_PART = /^(word|xl|ppt)\/media\//i;
const EMBEDDED_PACKAGE = /\/embeddings\/[^/]+\.(docx|xlsx|pptx)$/i;
const MAIN_PART: Record<string, string> = { docx: 'word/document.xml', xlsx: 'xl/workbook.xml', pptx: 'ppt/presentation.xml' };

/** Embedded packages inside embedded packages are refused past this depth. */
const MAX_DEPTH = 2;

const bump = (c: Counts, k: string, n = 1): void => { c[k] = (c[k] ?? 0) + n; };

interface Context { scratch: Scratch; type: string; depth: number; counts: Counts; warnings: Set<string> }

async function cleanEmbeddedPackage(e: ZipEntry, ctx: Context): Promise<Buffer> {
  if (ctx.depth >= MAX_DEPTH) throw new CleaningFailed({ type: ctx.type }, 'embedded packages nested too deep');
  const ext = (/\.(\w+)$/.exec(e.name)?.[1] ?? 'docx').toLowerCase();
  const input = ctx.scratch.path('.' + ext);
  let output: string | undefined;
  try {
    await writeFile(input, e.data, { mode: 0o600 });
    output = ctx.scratch.path('.' + ext);
    await cleanPackage(input, output, { ...ctx, type: ext, depth: ctx.depth + 1 });
    bump(ctx.counts, 'embedded_document');
    return await readFile(output);
  } finally {
    await rm(input, { force: true });
    if (output) await rm(output, { force: true });
  }
}

async function cleanPackage(input: string, output: string, ctx: Context): Promise<void> {
  const entries = await readZipEntries(input, ctx.type);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const main = MAIN_PART[ctx.type];
  if (!byName.has('[Content_Types].xml') || (main && !byName.has(main))) {
    throw new CleaningFailed({ type: ctx.type }, 'not an Office package: main part missing');
  }

  const dropped = new Set<string>();
  for (const e of entries) {
    if (METADATA_PART.test(e.name)) { dropped.add(e.name); bump(ctx.counts, 'metadata_part'); continue; }
    const known = XML_PART.test(e.name) || FONT_PART.test(e.name) || MEDIA_PART.test(e.name) || EMBEDDED_PACKAGE.test(e.name);
    if (!known) {
      // OLE objects, macros (vbaProject.bin), ActiveX: formats we cannot clean, so they go.
      dropped.add(e.name);
      bump(ctx.counts, 'uncleanable_part');
      ctx.warnings.add('Some embedded objects or macros could not be cleaned and were removed');
    }
  }

  // Relationships first: which r:id attributes each part must lose.
  const removedIdsOf = new Map<string, Set<string>>();
  const relsXml = new Map<string, string>();
  for (const e of entries) {
    if (dropped.has(e.name) || !e.name.endsWith('.rels')) continue;
    const r = pruneRels(e.name, e.data.toString('utf8'), dropped);
    relsXml.set(e.name, r.xml);
    removedIdsOf.set(ownerOfRels(e.name), r.removedIds);
    if (r.externalPaths) bump(ctx.counts, 'local_path', r.externalPaths);
  }

  const pseudonyms = new Pseudonyms();
  const out: OutEntry[] = [];
  for (const e of entries) {
    if (dropped.has(e.name)) continue;
    let data = e.data;
    if (e.name === '[Content_Types].xml') {
      data = Buffer.from(pruneContentTypes(e.data.toString('utf8'), dropped), 'utf8');
    } else if (XML_PART.test(e.name)) {
      const xml = relsXml.get(e.name) ?? e.data.toString('utf8');
      // PowerPoint's comment author lists and Excel's shared-workbook user list name people in `name`.
      const nameIsAuthor = /(^|\/)(commentAuthors|authors|userNames)\.xml$/i.test(e.name);
      const removedRelIds = removedIdsOf.get(e.name) ?? new Set<string>();
      data = Buffer.from(scrubOfficeXml(xml, pseudonyms, { nameIsAuthor, removedRelIds }, ctx.counts), 'utf8');
    } else if (MEDIA_PART.test(e.name)) {
      const pic = await cleanEmbeddedPicture(e.data, ctx.scratch);
      data = pic.data;
      bump(ctx.counts, pic.blanked ? 'picture_blanked' : 'picture_metadata');
      if (pic.blanked) ctx.warnings.add('Some pictures in a format we cannot clean were replaced by blanks');
      if (pic.formatChanged) ctx.warnings.add('Some pictures were re-encoded in another format under the same name');
    } else if (EMBEDDED_PACKAGE.test(e.name)) {
      data = await cleanEmbeddedPackage(e, ctx);
    }
    out.push({ name: e.name, data });
  }
  out.sort((a, b) => Number(b.name === '[Content_Types].xml') - Number(a.name === '[Content_Types].xml'));
  await writeZip(out, output);
}

export const cleanOffice: Cleaner = async (input, sniffed, scratch) => {
  const type = sniffed.ext;
  if (!MAIN_PART[type]) throw new CleaningFailed({ type }, 'not an Office Open XML type');
  const counts: Counts = {};
  const warnings = new Set<string>();
  const output = scratch.path('.' + type);
  try {
    await cleanPackage(input, output, { scratch, type, depth: 0, counts, warnings });
  } catch (e) {
    await rm(output, { force: true });
    if (e instanceof CleaningFailed) throw e;
    throw new CleaningFailed({ type }, e instanceof Error ? e.message : String(e));
  }
  const report: CleanReport = { removed: counts, warnings: [...warnings] };
  return { path: output, kind: 'document', ext: type, report };
};
