/**
 * Writes a new PDF whose every page is one JPEG picture, and nothing else.
 *
 * Why by hand rather than a PDF library: the whole file is four object kinds (catalog, page tree,
 * page, picture) and we want to be able to read every byte we emit. Libraries add a Producer, dates,
 * a document /ID or XMP by default; this writer has no Info dictionary, no /ID, no metadata stream,
 * no names tree, no actions and no annotations, so none of those can come back by accident.
 */
import { open } from 'node:fs/promises';

export interface PagePicture {
  /** A baseline JPEG with no metadata (as pdftoppm writes it). */
  jpeg: Buffer;
  widthPx: number;
  heightPx: number;
  components: 1 | 3;
  /** Size of the page in PDF points (1/72 inch). */
  widthPt: number;
  heightPt: number;
}

const num = (n: number): string => (Math.round(n * 100) / 100).toString();

export async function writeImagePdf(pages: PagePicture[], outPath: string): Promise<void> {
  const fh = await open(outPath, 'w', 0o600);
  const offsets: number[] = [];
  let pos = 0;
  const put = async (chunk: string | Buffer): Promise<void> => {
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    await fh.write(b);
    pos += b.length;
  };
  const startObject = async (id: number): Promise<void> => { offsets[id] = pos; await put(`${id} 0 obj\n`); };
  try {
    // The binary comment line tells transfer tools this file is binary.
    await put('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n');
    const pageId = (i: number): number => 3 + 3 * i;
    await startObject(1);
    await put('<< /Type /Catalog /Pages 2 0 R >>\nendobj\n');
    await startObject(2);
    await put(`<< /Type /Pages /Count ${pages.length} /Kids [${pages.map((_, i) => `${pageId(i)} 0 R`).join(' ')}] >>\nendobj\n`);
    for (const [i, p] of pages.entries()) {
      const id = pageId(i);
      const w = num(p.widthPt);
      const h = num(p.heightPt);
      await startObject(id);
      await put(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${w} ${h}] ` +
        `/Resources << /XObject << /P ${id + 2} 0 R >> >> /Contents ${id + 1} 0 R >>\nendobj\n`);
      const content = `q ${w} 0 0 ${h} 0 0 cm /P Do Q\n`;
      await startObject(id + 1);
      await put(`<< /Length ${content.length} >>\nstream\n${content}endstream\nendobj\n`);
      await startObject(id + 2);
      await put(`<< /Type /XObject /Subtype /Image /Width ${p.widthPx} /Height ${p.heightPx} ` +
        `/ColorSpace /${p.components === 1 ? 'DeviceGray' : 'DeviceRGB'} /BitsPerComponent 8 ` +
        `/Filter /DCTDecode /Length ${p.jpeg.length} >>\nstream\n`);
      await put(p.jpeg);
      await put('\nendstream\nendobj\n');
    }
    const xrefAt = pos;
    const size = 3 + 3 * pages.length;
    let xref = `xref\n0 ${size}\n0000000000 65535 f \n`;
    for (let id = 1; id < size; id++) xref += `${String(offsets[id] ?? 0).padStart(10, '0')} 00000 n \n`;
    await put(xref);
    await put(`trailer\n<< /Size ${size} /Root 1 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`);
  } finally {
    await fh.close();
  }
}
