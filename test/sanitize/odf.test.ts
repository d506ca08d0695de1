import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanOdf } from '../../src/sanitize/odf.ts';
import { CleaningFailed } from '../../src/errors.ts';
import { sniff } from '../../src/sanitize/index.ts';
import { readZipEntries } from '../../src/sanitize/zip-read.ts';
import { dirtyOdt, exifDump, markersIn, workspace, writeTestZip } from './doc-fixtures.ts';
import type { Workspace } from './doc-fixtures.ts';

const ODT = { ext: 'odt', mime: 'application/vnd.oasis.opendocument.text' };

describe('an OpenDocument text from a tipster', () => {
  let ws: Workspace;
  let dirty: string;
  before(async () => { ws = workspace(); dirty = await dirtyOdt(ws.dir); });
  after(() => ws.done());

  it('is recognised as ODT by the sniffer', async () => {
    assert.equal((await sniff(dirty))?.ext, 'odt');
  });

  it('keeps none of the planted names, generator, printer, local path or photo serial in any entry', async () => {
    const out = await cleanOdf(dirty, ODT, ws.scratch);
    for (const e of await readZipEntries(out.path, 'odt')) assert.deepEqual(markersIn(e.data), [], `marker left in ${e.name}`);
  });

  it('keeps mimetype first and stored, drops the thumbnail from the package and its manifest', async () => {
    const out = await cleanOdf(dirty, ODT, ws.scratch);
    const bytes = readFileSync(out.path);
    // Local header: signature, then method 0 (stored) at offset 8, name "mimetype" at 30.
    assert.equal(bytes.readUInt16LE(8), 0);
    assert.equal(bytes.subarray(30, 38).toString('latin1'), 'mimetype');
    assert.equal(bytes.subarray(38, 38 + 39).toString('latin1'), ODT.mime);
    const parts = new Map((await readZipEntries(out.path, 'odt')).map((e) => [e.name, e.data.toString('utf8')]));
    assert.ok(!parts.has('Thumbnails/thumbnail.png'));
    assert.doesNotMatch(parts.get('META-INF/manifest.xml')!, /Thumbnails/);
    assert.match(parts.get('META-INF/manifest.xml')!, /Pictures\/photo\.jpg/);
    assert.equal(await sniff(out.path).then((s) => s?.ext), 'odt');
  });

  it('keeps the text and annotation, by "Autor 1", with an empty meta.xml', async () => {
    const out = await cleanOdf(dirty, ODT, ws.scratch);
    const parts = new Map((await readZipEntries(out.path, 'odt')).map((e) => [e.name, e.data.toString('utf8')]));
    const content = parts.get('content.xml')!;
    assert.match(content, /Pagos a la policía municipal/);
    assert.match(content, /<dc:creator>Autor 1<\/dc:creator><dc:date>1970-01-01T00:00:00<\/dc:date><meta:creator-initials>A1</);
    assert.match(parts.get('meta.xml')!, /<office:meta\/>/);
  });

  it('re-encodes the picture without GPS, make or serial', async () => {
    const out = await cleanOdf(dirty, ODT, ws.scratch);
    const pic = (await readZipEntries(out.path, 'odt')).find((e) => e.name === 'Pictures/photo.jpg');
    assert.ok(pic);
    const p = join(ws.dir, 'pic.jpg');
    writeFileSync(p, pic.data);
    assert.doesNotMatch(exifDump(p), /GPS|Make|Serial|Artist/);
  });

  it('that is password-protected is refused', async () => {
    const path = join(ws.dir, 'locked.odt');
    await writeTestZip(path, [
      { name: 'mimetype', data: ODT.mime, store: true },
      { name: 'META-INF/manifest.xml', data: '<manifest:manifest><manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data/></manifest:file-entry></manifest:manifest>' },
      { name: 'content.xml', data: Buffer.from([1, 2, 3]) },
    ]);
    await assert.rejects(cleanOdf(path, ODT, ws.scratch), CleaningFailed);
  });

  it('whose mimetype says another kind is refused', async () => {
    const path = join(ws.dir, 'liar.odt');
    await writeTestZip(path, [{ name: 'mimetype', data: 'application/x-evil', store: true }, { name: 'content.xml', data: '<a/>' }]);
    await assert.rejects(cleanOdf(path, ODT, ws.scratch), CleaningFailed);
  });
});
