import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanerFor, sniff } from '../../src/sanitize/index.ts';
import type { Cleaned } from '../../src/sanitize/types.ts';
import { readZipEntries } from '../../src/sanitize/zip-read.ts';
import { MARK, exifDump, markersIn, workspace } from './doc-fixtures.ts';
import type { Workspace } from './doc-fixtures.ts';
import { dirtyOds, dirtyPptx, dirtyXlsx } from './doc-fixtures-more.ts';

/** Each kind: its fixture, its main part, its embedded photo, and what names a person in it. */
const KINDS = [
  { ext: 'xlsx', make: dirtyXlsx, main: 'xl/workbook.xml', photo: 'xl/media/image1.jpeg' },
  { ext: 'pptx', make: dirtyPptx, main: 'ppt/presentation.xml', photo: 'ppt/media/image1.jpeg' },
  { ext: 'ods', make: dirtyOds, main: 'content.xml', photo: 'Pictures/photo.jpg' },
] as const;

for (const k of KINDS) {
  describe(`a dirty ${k.ext.toUpperCase()} from a tipster`, () => {
    let ws: Workspace;
    let out: Cleaned;
    before(async () => {
      ws = workspace();
      const dirty = await k.make(ws.dir);
      assert.deepEqual(markersIn((await readZipEntries(dirty, k.ext)).map((e) => e.data).reduce((a, b) => Buffer.concat([a, b]))).sort(),
        [MARK.person, MARK.company, MARK.serial, MARK.make].concat(k.ext === 'ods' ? [MARK.producer] : [MARK.path]).sort(),
        'the fixture plants what the test looks for');
      const sniffed = await sniff(dirty);
      assert.equal(sniffed?.ext, k.ext, 'file-type sniffs it by content');
      out = await cleanerFor(sniffed)(dirty, sniffed!, ws.scratch);
    });
    after(() => ws.done());

    it('is a valid package with its main part, and the cleaned file sniffs as the same type', async () => {
      const names = (await readZipEntries(out.path, k.ext)).map((e) => e.name);
      assert.ok(names.includes(k.main));
      if (k.ext === 'ods') assert.equal(names[0], 'mimetype');
      else assert.equal(names[0], '[Content_Types].xml');
      assert.equal((await sniff(out.path))?.ext, k.ext);
      assert.equal(out.ext, k.ext);
    });

    it('keeps no planted name, company, path or photo serial in any decompressed entry', async () => {
      for (const e of await readZipEntries(out.path, k.ext)) assert.deepEqual(markersIn(e.data), [], `marker left in ${e.name}`);
      // When comments and revisions were written (2026-03-01) is as telling as who wrote them.
      for (const e of await readZipEntries(out.path, k.ext)) assert.doesNotMatch(e.data.toString('utf8'), /2026-03-01/, `date left in ${e.name}`);
    });

    it('shows exiftool no author, creator, company or GPS', () => {
      // Part names (ppt/commentAuthors.xml) are structure, not values: only values are searched.
      const values = exifDump(out.path).split('\n').filter((l) => !/ZipFileName/.test(l)).join('\n');
      assert.doesNotMatch(values, new RegExp(`${MARK.person}|${MARK.company}|GPS|Creator|Author|Company|Manager`, 'i'));
    });

    it('re-encodes the embedded photo without GPS, make or serial, and keeps the text', async () => {
      const entries = await readZipEntries(out.path, k.ext);
      const photo = entries.find((e) => e.name === k.photo);
      assert.ok(photo, 'photo kept under its name');
      const p = join(ws.dir, `extracted-${k.ext}.jpg`);
      writeFileSync(p, photo.data);
      assert.doesNotMatch(exifDump(p), /GPS|Make|Serial|Artist/);
      assert.equal(out.report.removed.picture_metadata, 1);
      const text = entries.map((e) => e.data.toString('utf8')).join('');
      assert.match(text, /Pagos a la policía municipal/);
      assert.match(text, /Autor 1/);
    });
  });
}
