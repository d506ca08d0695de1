/**
 * PDF: every page is re-rendered to a picture and a new PDF is built from those pictures.
 *
 * Threat: a PDF hides identifying data in more places than any list can name: the Info dictionary
 * (Author, Creator, Producer, dates), XMP streams (on the document and on every object), the
 * trailer /ID that matches one copy to its siblings, EXIF/GPS inside embedded photos, annotation
 * authors (/T), JavaScript, attached files, form values, optional-content layers, incremental
 * updates that keep every earlier version of the file after %%EOF, and objects no page refers to.
 *
 * Why re-render (as mat2 does) rather than a structural clean: a structural clean must find and
 * rewrite every one of those places and can miss the next one; a rendering keeps only what a reader
 * sees on each page, so nothing hidden can survive. exiftool's PDF edits are incremental updates
 * (reversible), so they are never used here. The new file is written by pdf-rebuild.ts with no Info,
 * no XMP and no /ID.
 * Trade-off: text is no longer selectable or searchable, links stop working, the file is larger,
 * and fine print is limited to the rendering resolution (~170 dpi on A4). The report says so.
 * Limits: poppler parses hostile input in a child process under prlimit and a wall-clock timer;
 * too many pages, a damaged file, or a password are refused rather than half-cleaned.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { CleaningFailed } from '../errors.ts';
import type { Cleaner } from './types.ts';
import { runTool } from './subprocess.ts';
import { writeImagePdf } from './pdf-rebuild.ts';
import type { PagePicture } from './pdf-rebuild.ts';

export const PDF_LIMITS = {
  maxPages: 300,
  /** Longest side of a rendered page in pixels: ~170 dpi on A4, and a bound on pixel floods. */
  renderPixels: 2000,
  jpegQuality: 85,
  /** Wall-clock time for rendering the whole document. */
  renderTimeoutMs: 5 * 60_000,
  renderMemoryBytes: 1536 * 1024 ** 2,
};

export const TEXT_BECAME_PICTURES = 'PDF pages were turned into pictures: text can no longer be selected or searched';

/** Page sizes in points, as [width, height] before /Rotate (pdftoppm applies the rotation). */
interface PdfInfo { pages: number; sizesPt: [number, number][] }

/** Runs pdfinfo; refuses password-protected and unreadable files. */
async function inspect(input: string, refuse: (r: string) => never): Promise<PdfInfo> {
  const first = await runTool('pdfinfo', [input], { timeoutMs: 30_000, cpuSeconds: 30 });
  if (first.code !== 0) refuse('pdfinfo could not read the file');
  const text = first.stdout.toString('latin1');
  const pages = Number(/^Pages:\s+(\d+)/m.exec(text)?.[1] ?? NaN);
  if (!Number.isInteger(pages) || pages < 1) refuse('no pages');
  if (pages > PDF_LIMITS.maxPages) refuse(`too many pages (${pages})`);
  // A user password makes pdfinfo fail above; owner-password-only files render, so they are taken.
  const sizes = await runTool('pdfinfo', ['-f', '1', '-l', String(pages), input], { timeoutMs: 60_000, cpuSeconds: 60 });
  if (sizes.code !== 0) refuse('pdfinfo could not read page sizes');
  const sizesPt: [number, number][] = [];
  for (const m of sizes.stdout.toString('latin1').matchAll(/^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts/gm)) {
    sizesPt.push([Number(m[1]), Number(m[2])]);
  }
  if (sizesPt.length !== pages || sizesPt.some(([w, h]) => !(w > 0 && h > 0))) refuse('page sizes unreadable');
  return { pages, sizesPt };
}

/** qpdf's structural check: a file poppler would silently "repair" is refused instead. */
async function checkStructure(input: string, refuse: (r: string) => never): Promise<void> {
  const r = await runTool('qpdf', ['--check', input], { timeoutMs: 60_000, cpuSeconds: 60 });
  if (r.code !== 0 && r.code !== 3) refuse('damaged PDF');
}

export const cleanPdf: Cleaner = async (input, sniffed, scratch) => {
  const type = sniffed.ext;
  const refuse = (reason: string): never => { throw new CleaningFailed({ type }, reason); };
  await checkStructure(input, refuse);
  const info = await inspect(input, refuse);

  const dir = scratch.path();
  const output = scratch.path('.pdf');
  await mkdir(dir, { mode: 0o700 });
  try {
    const r = await runTool('pdftoppm', [
      '-jpeg', '-jpegopt', `quality=${PDF_LIMITS.jpegQuality}`, '-scale-to', String(PDF_LIMITS.renderPixels),
      '-f', '1', '-l', String(info.pages), input, join(dir, 'p'),
    ], { timeoutMs: PDF_LIMITS.renderTimeoutMs, cpuSeconds: PDF_LIMITS.renderTimeoutMs / 1000, memoryBytes: PDF_LIMITS.renderMemoryBytes });
    if (r.code !== 0) refuse(r.signal ? 'rendering took too long or too much memory' : 'rendering failed');
    // pdftoppm names pages p-1.jpg or p-01.jpg…; the zero padding keeps them in order once sorted.
    const files = (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort();
    if (files.length !== info.pages) refuse('some pages did not render');

    const pictures: PagePicture[] = [];
    for (const [i, f] of files.entries()) {
      const jpeg = await readFile(join(dir, f));
      const meta = await sharp(jpeg).metadata();
      const w = meta.width ?? 0;
      const h = meta.height ?? 0;
      if (!w || !h) refuse('a rendered page is empty');
      // The picture is already rotated; match the page's sides to its orientation.
      const [pw, ph] = info.sizesPt[i] ?? [0, 0];
      const [widthPt, heightPt] = (w >= h) === (pw >= ph) ? [pw, ph] : [ph, pw];
      pictures.push({ jpeg, widthPx: w, heightPx: h, components: meta.channels === 1 ? 1 : 3, widthPt, heightPt });
    }
    await writeImagePdf(pictures, output);
  } catch (e) {
    await rm(output, { force: true });
    if (e instanceof CleaningFailed) throw e;
    return refuse(e instanceof Error ? e.message : String(e));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return {
    path: output,
    kind: 'document',
    ext: 'pdf',
    report: {
      removed: { document_metadata: 1, pages_rendered: info.pages },
      warnings: [TEXT_BECAME_PICTURES],
    },
  };
};
