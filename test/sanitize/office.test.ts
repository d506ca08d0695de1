import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { cleanOffice } from '../../src/sanitize/office.ts';
import { CleaningFailed } from '../../src/errors.ts';
import { sniff } from '../../src/sanitize/index.ts';
import { readZipEntries } from '../../src/sanitize/zip-read.ts';
import { MARK, dirtyDocx, exifDump, markersIn, workspace, writeTestZip } from './doc-fixtures.ts';
import type { Workspace } from './doc-fixtures.ts';

const DOCX = { ext: 'docx', mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' };

/** A well-formedness check good enough for a test: tags balance. */
function tagsBalance(xml: string): boolean {
  const stack: string[] = [];
  for (const m of xml.replace(/<\?[^>]*\?>/g, '').matchAll(/<(\/?)([\w:.-]+)[^>]*?(\/?)>/g)) {
    if (m[3]) continue;
    if (!m[1]) stack.push(m[2]!);
    else if (stack.pop() !== m[2]) return false;
  }
  return stack.length === 0;
}

/** One local file header + central directory for a single deflated entry that lies about nothing. */
function singleEntryZip(name: string, raw: Buffer, declaredSize: number): Buffer {
  const data = deflateRawSync(raw, { level: 9 });
  const n = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(8, 8);
  local.writeUInt32LE(data.length, 18); local.writeUInt32LE(declaredSize, 22); local.writeUInt16LE(n.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6); central.writeUInt16LE(8, 10);
  central.writeUInt32LE(data.length, 20); central.writeUInt32LE(declaredSize, 24); central.writeUInt16LE(n.length, 28);
  const cdOffset = local.length + n.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(1, 8); end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + n.length, 12); end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, n, data, central, n, end]);
}

describe('a Word document from a tipster', () => {
  let ws: Workspace;
  let dirty: string;
  before(async () => { ws = workspace(); dirty = await dirtyDocx(ws.dir); });
  after(() => ws.done());

  it('is recognised as DOCX by the sniffer', async () => {
    assert.equal((await sniff(dirty))?.ext, 'docx');
  });

  it('keeps none of the planted names, company, rsids, ids, template path or photo serial in any part', async () => {
    const out = await cleanOffice(dirty, DOCX, ws.scratch);
    for (const e of await readZipEntries(out.path, 'docx')) {
      assert.deepEqual(markersIn(e.data), [], `marker left in ${e.name}`);
    }
  });

  it('drops docProps, customXml and the thumbnail, and keeps the package consistent', async () => {
    const out = await cleanOffice(dirty, DOCX, ws.scratch);
    const parts = new Map((await readZipEntries(out.path, 'docx')).map((e) => [e.name, e.data.toString('utf8')]));
    assert.ok(![...parts.keys()].some((n) => /^(docProps|customXml)\//.test(n)));
    assert.doesNotMatch(parts.get('[Content_Types].xml')!, /docProps/);
    assert.doesNotMatch(parts.get('_rels/.rels')!, /docProps/);
    assert.doesNotMatch(parts.get('word/_rels/document.xml.rels')!, /customXml/);
    assert.doesNotMatch(parts.get('word/settings.xml')!, /attachedTemplate|w:rsids|docId/);
    assert.equal([...parts.keys()][0], '[Content_Types].xml');
    for (const [name, xml] of parts) if (/\.(xml|rels)$/.test(name)) assert.ok(tagsBalance(xml), `${name} is broken`);
  });

  it('keeps the text, comments and tracked changes, with authors as "Autor N" and no dates or rsids', async () => {
    const out = await cleanOffice(dirty, DOCX, ws.scratch);
    const parts = new Map((await readZipEntries(out.path, 'docx')).map((e) => [e.name, e.data.toString('utf8')]));
    const doc = parts.get('word/document.xml')!;
    const comments = parts.get('word/comments.xml')!;
    assert.match(doc, /Pagos a la policía municipal/);
    assert.match(doc, /<w:ins w:id="1" w:author="Autor 1">/);
    assert.match(comments, /w:author="Autor 1" w:initials="A1"/);
    assert.match(comments, /Confirmar con la fuente/);
    assert.doesNotMatch(doc + comments, /w:rsid|w:date/);
    assert.match(doc, /r:embed="rId3"/);
    assert.doesNotMatch(parts.get('word/people.xml')!, /presenceInfo/);
  });

  it('re-encodes the embedded photo under the same name, without GPS, make or serial', async () => {
    const out = await cleanOffice(dirty, DOCX, ws.scratch);
    const photo = (await readZipEntries(out.path, 'docx')).find((e) => e.name === 'word/media/image1.jpeg');
    assert.ok(photo);
    const p = join(ws.dir, 'extracted.jpeg');
    writeFileSync(p, photo.data);
    assert.doesNotMatch(exifDump(p), /GPS|Make|Serial|Artist/);
    assert.ok(photo.data.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff])));
    assert.equal(out.report.removed.picture_metadata, 1);
  });

  it('writes zip entries with no time of saving and the same bytes each time', async () => {
    const a = await cleanOffice(dirty, DOCX, ws.scratch);
    const entries = await readZipEntries(a.path, 'docx');
    assert.ok(entries.length > 5);
    const { readFileSync } = await import('node:fs');
    const b = await cleanOffice(dirty, DOCX, ws.scratch);
    assert.ok(readFileSync(a.path).equals(readFileSync(b.path)));
  });
});

describe('a hostile Office zip', () => {
  let ws: Workspace;
  before(() => { ws = workspace(); });
  after(() => ws.done());

  it('that declares 1 GiB in one small entry (a zip bomb) is refused before inflating', async () => {
    // 1 MiB of zeros deflates to ~1 KiB; the header declares the 1 GiB a real bomb would hold.
    const path = join(ws.dir, 'bomb.docx');
    writeFileSync(path, singleEntryZip('word/document.xml', Buffer.alloc(1024 * 1024), 1024 ** 3));
    await assert.rejects(cleanOffice(path, DOCX, ws.scratch), CleaningFailed);
  });

  it('with one entry compressing over 100:1 is refused even when its size is honest', async () => {
    const path = join(ws.dir, 'ratio.docx');
    const raw = Buffer.alloc(8 * 1024 * 1024);
    writeFileSync(path, singleEntryZip('word/document.xml', raw, raw.length));
    await assert.rejects(cleanOffice(path, DOCX, ws.scratch), (e: unknown) => e instanceof CleaningFailed && /ratio/.test(e.reason));
  });

  it('with too many entries is refused', async () => {
    const path = join(ws.dir, 'many.docx');
    const parts = Array.from({ length: 2100 }, (_, i) => ({ name: `word/p${i}.xml`, data: '<a/>' }));
    await writeTestZip(path, [{ name: '[Content_Types].xml', data: '<Types/>' }, { name: 'word/document.xml', data: '<w/>' }, ...parts]);
    await assert.rejects(cleanOffice(path, DOCX, ws.scratch), (e: unknown) => e instanceof CleaningFailed && /too many/.test(e.reason));
  });

  it('with an entry named to climb out of its folder is refused', async () => {
    const path = join(ws.dir, 'traversal.docx');
    writeFileSync(path, singleEntryZip('../../etc/passwd', Buffer.from('x'), 1));
    await assert.rejects(cleanOffice(path, DOCX, ws.scratch), CleaningFailed);
  });

  it('without its main part is refused', async () => {
    const path = join(ws.dir, 'empty.docx');
    await writeTestZip(path, [{ name: '[Content_Types].xml', data: '<Types/>' }]);
    await assert.rejects(cleanOffice(path, DOCX, ws.scratch), CleaningFailed);
  });

  it('that is not a zip at all is refused', async () => {
    const path = join(ws.dir, 'junk.docx');
    writeFileSync(path, 'PK\u0003\u0004 nothing here');
    await assert.rejects(cleanOffice(path, DOCX, ws.scratch), CleaningFailed);
  });

  it('with the same entry twice is refused, so no reader can pick the uncleaned one', async () => {
    const path = join(ws.dir, 'dup.docx');
    await writeTestZip(path, [
      { name: '[Content_Types].xml', data: '<Types/>' }, { name: 'word/document.xml', data: '<w/>' },
      { name: 'word/document.xml', data: `<w:p w:author="${MARK.person}"/>` },
    ]);
    await assert.rejects(cleanOffice(path, DOCX, ws.scratch), CleaningFailed);
  });
});
