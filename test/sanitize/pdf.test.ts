import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanPdf, TEXT_BECAME_PICTURES } from '../../src/sanitize/pdf.ts';
import { CleaningFailed } from '../../src/errors.ts';
import { sniff } from '../../src/sanitize/index.ts';
import { MARK, dirtyPdf, exifDump, markersIn, workspace } from './doc-fixtures.ts';
import type { Workspace } from './doc-fixtures.ts';

const PDF = { ext: 'pdf', mime: 'application/pdf' };

describe('a PDF from a tipster', () => {
  let ws: Workspace;
  let dirty: string;
  before(async () => { ws = workspace(); dirty = await dirtyPdf(ws.dir); });
  after(() => ws.done());

  it('is a PDF the sniffer recognises, with every planted marker present before cleaning', async () => {
    assert.deepEqual(await sniff(dirty), PDF);
    const qdf = join(ws.dir, 'dirty-qdf.pdf');
    spawnSync('qpdf', ['--qdf', '--object-streams=disable', dirty, qdf]);
    assert.deepEqual(markersIn(readFileSync(qdf), [MARK.person, MARK.producer, MARK.js, MARK.attachment, MARK.serial]).length, 5);
  });

  it('comes out with no author, producer, XMP, /ID, JavaScript, attachment, annotation or photo EXIF left in its bytes', async () => {
    const out = await cleanPdf(dirty, PDF, ws.scratch);
    const qdf = join(ws.dir, 'clean-qdf.pdf');
    execFileSync('qpdf', ['--qdf', '--object-streams=disable', out.path, qdf]);
    assert.deepEqual(markersIn(readFileSync(qdf)), []);
    // The cleaned file itself (qpdf's rewrite adds an /ID of its own, so not the qdf copy).
    const raw = readFileSync(out.path).toString('latin1');
    for (const key of ['/Info', '/Metadata', '/ID', '/JavaScript', '/EmbeddedFile', '/Annots', '/OpenAction']) {
      assert.ok(!raw.includes(key), `${key} survived`);
    }
  });

  it('shows exiftool no author, creator, producer or GPS', async () => {
    const out = await cleanPdf(dirty, PDF, ws.scratch);
    const dump = exifDump(out.path);
    assert.doesNotMatch(dump, /Author|Creator|Producer|GPS|Serial|XMP/i);
  });

  it('still opens, with the same number of pages, and says its text became pictures', async () => {
    const out = await cleanPdf(dirty, PDF, ws.scratch);
    const info = execFileSync('pdfinfo', [out.path], { encoding: 'utf8' });
    assert.match(info, /^Pages:\s+2$/m);
    assert.match(info, /^Page size:\s+612 x 792 pts/m);
    assert.equal(spawnSync('qpdf', ['--check', out.path]).status, 0);
    assert.equal(out.kind, 'document');
    assert.equal(out.ext, 'pdf');
    assert.ok(out.report.warnings.includes(TEXT_BECAME_PICTURES));
    assert.equal(out.report.removed.pages_rendered, 2);
  });

  it('that is truncated is refused rather than half-cleaned', async () => {
    const bytes = readFileSync(dirty);
    const cut = join(ws.dir, 'cut.pdf');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await assert.rejects(cleanPdf(cut, PDF, ws.scratch), CleaningFailed);
  });

  it('that is not a PDF at all is refused', async () => {
    const junk = join(ws.dir, 'junk.pdf');
    writeFileSync(junk, '%PDF-1.7\nthis is not a pdf\n');
    await assert.rejects(cleanPdf(junk, PDF, ws.scratch), CleaningFailed);
  });
});
