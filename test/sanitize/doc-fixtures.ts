/**
 * Dirty documents made on the fly (no checked-in fixtures): each plants unique markers where real
 * tools hide people — document properties, comments, rsids, XMP, /ID, annotations, EXIF GPS —
 * so a test can search the cleaned bytes for every one of them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import sharp from 'sharp';
import yazl from 'yazl';
import { createScratch } from '../../src/sanitize/scratch.ts';
import type { Scratch } from '../../src/sanitize/types.ts';

export const MARK = {
  person: 'Ana Informante',
  company: 'ACME-CORP-3391',
  serial: 'SERIAL-7731',
  make: 'MAKE-4407',
  producer: 'PRODUCER-4471',
  js: 'JS-MARKER-5521',
  attachment: 'ATTACHMENT-MARKER-9931',
  annotation: 'ANNOT-MARKER-1188',
  xmpId: 'XMPID-MARKER-6620',
  docId: 'DEADBEEFCAFE0123456789ABCDEF0042',
  rsid: '00A1B2C3',
  path: 'ana.informante',
};

export interface Workspace { dir: string; scratch: Scratch; done(): void }

export function workspace(): Workspace {
  const dir = mkdtempSync('/dev/shm/buzon-doc-test-');
  return { dir, scratch: createScratch(dir), done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A JPEG with GPS, make, serial and artist planted by exiftool. */
export async function gpsJpeg(dir: string): Promise<Buffer> {
  const path = join(dir, 'photo.jpg');
  await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 30, b: 30 } } }).jpeg().toFile(path);
  execFileSync('exiftool', ['-q', '-overwrite_original', '-GPSLatitude=19.4326', '-GPSLatitudeRef=N',
    '-GPSLongitude=99.1332', '-GPSLongitudeRef=W', `-Make=${MARK.make}`, `-SerialNumber=${MARK.serial}`,
    `-Artist=${MARK.person}`, path]);
  return readFileSync(path);
}

export interface ZipPart { name: string; data: string | Buffer; store?: boolean }

export async function writeTestZip(path: string, parts: ZipPart[]): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const p of parts) zip.addBuffer(Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data), p.name, { compress: !p.store });
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
}

const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

export async function dirtyDocx(dir: string): Promise<string> {
  const jpeg = await gpsJpeg(dir);
  const path = join(dir, 'dirty.docx');
  await writeTestZip(path, [
    { name: '[Content_Types].xml', data: `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
      '<Default Extension="xml" ContentType="application/xml"/><Default Extension="jpeg" ContentType="image/jpeg"/>' +
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>' +
      '<Override PartName="/word/comments.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/>' +
      '<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>' +
      '<Override PartName="/word/people.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.people+xml"/>' +
      '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>' +
      '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>' +
      '<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>' },
    { name: '_rels/.rels', data: `${XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
      `<Relationship Id="rId1" Type="${REL}/officeDocument" Target="word/document.xml"/>` +
      '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>' +
      `<Relationship Id="rId3" Type="${REL}/extended-properties" Target="docProps/app.xml"/>` +
      `<Relationship Id="rId4" Type="${REL}/custom-properties" Target="docProps/custom.xml"/>` +
      '<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail" Target="docProps/thumbnail.jpeg"/></Relationships>' },
    { name: 'docProps/core.xml', data: `${XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">` +
      `<dc:creator>${MARK.person}</dc:creator><cp:lastModifiedBy>${MARK.person}</cp:lastModifiedBy></cp:coreProperties>` },
    { name: 'docProps/app.xml', data: `${XML}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Company>${MARK.company}</Company></Properties>` },
    { name: 'docProps/custom.xml', data: `${XML}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"><property name="EmployeeId">${MARK.company}</property></Properties>` },
    { name: 'docProps/thumbnail.jpeg', data: jpeg },
    { name: 'word/_rels/document.xml.rels', data: `${XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
      `<Relationship Id="rId1" Type="${REL}/comments" Target="comments.xml"/>` +
      `<Relationship Id="rId2" Type="${REL}/settings" Target="settings.xml"/>` +
      `<Relationship Id="rId3" Type="${REL}/image" Target="media/image1.jpeg"/>` +
      '<Relationship Id="rId4" Type="http://schemas.microsoft.com/office/2011/relationships/people" Target="people.xml"/>' +
      `<Relationship Id="rId5" Type="${REL}/customXml" Target="../customXml/item1.xml"/></Relationships>` },
    { name: 'word/_rels/settings.xml.rels', data: `${XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
      `<Relationship Id="rId1" Type="${REL}/attachedTemplate" Target="file:///C:/Users/${MARK.path}/Templates/Normal.dotm" TargetMode="External"/></Relationships>` },
    { name: 'customXml/item1.xml', data: `<dms><owner>${MARK.person}</owner></dms>` },
    { name: 'word/document.xml', data: `${XML}<w:document ${W} xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><w:body>` +
      `<w:p w:rsidR="${MARK.rsid}" w:rsidRDefault="${MARK.rsid}"><w:commentRangeStart w:id="0"/><w:r w:rsidRPr="${MARK.rsid}"><w:t>Pagos a la policía municipal</w:t></w:r><w:commentRangeEnd w:id="0"/>` +
      '<w:r><w:commentReference w:id="0"/></w:r>' +
      `<w:ins w:id="1" w:author="${MARK.person}" w:date="2026-03-01T10:00:00Z"><w:r><w:t> en efectivo</w:t></w:r></w:ins></w:p>` +
      '<w:p><w:r><w:drawing><wp:inline><wp:extent cx="609600" cy="457200"/><wp:docPr id="1" name="Picture 1"/><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">' +
      '<pic:pic><pic:nvPicPr><pic:cNvPr id="1" name="image1.jpeg"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip r:embed="rId3"/></pic:blipFill>' +
      '<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="609600" cy="457200"/></a:xfrm><a:prstGeom prst="rect"/></pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>' +
      '<w:sectPr/></w:body></w:document>' },
    { name: 'word/comments.xml', data: `${XML}<w:comments ${W}><w:comment w:id="0" w:author="${MARK.person}" w:initials="AI" w:date="2026-03-01T09:00:00Z">` +
      '<w:p><w:r><w:t>Confirmar con la fuente</w:t></w:r></w:p></w:comment></w:comments>' },
    { name: 'word/people.xml', data: `${XML}<w15:people xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml"><w15:person w15:author="${MARK.person}">` +
      `<w15:presenceInfo w15:providerId="AD" w15:userId="S::${MARK.path}@example.org::1234"/></w15:person></w15:people>` },
    { name: 'word/settings.xml', data: `${XML}<w:settings ${W} xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml"><w:attachedTemplate r:id="rId1"/>` +
      `<w:rsids><w:rsidRoot w:val="${MARK.rsid}"/><w:rsid w:val="${MARK.rsid}"/></w:rsids><w15:docId w15:val="{${MARK.docId}}"/></w:settings>` },
    { name: 'word/media/image1.jpeg', data: jpeg },
  ]);
  return path;
}

export async function dirtyOdt(dir: string): Promise<string> {
  const jpeg = await gpsJpeg(dir);
  const path = join(dir, 'dirty.odt');
  const ns = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" ' +
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" ' +
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.3"';
  await writeTestZip(path, [
    { name: 'mimetype', data: 'application/vnd.oasis.opendocument.text', store: true },
    { name: 'META-INF/manifest.xml', data: `${XML}<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">` +
      '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>' +
      '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>' +
      '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>' +
      '<manifest:file-entry manifest:full-path="settings.xml" manifest:media-type="text/xml"/>' +
      '<manifest:file-entry manifest:full-path="Pictures/photo.jpg" manifest:media-type="image/jpeg"/>' +
      '<manifest:file-entry manifest:full-path="Thumbnails/thumbnail.png" manifest:media-type="image/png"/></manifest:manifest>' },
    { name: 'content.xml', data: `${XML}<office:document-content ${ns}><office:body><office:text>` +
      '<text:p>Pagos a la policía municipal<office:annotation>' +
      `<dc:creator>${MARK.person}</dc:creator><dc:date>2026-03-01T09:00:00</dc:date><meta:creator-initials>AI</meta:creator-initials><text:p>Confirmar</text:p></office:annotation></text:p>` +
      '<text:p><draw:frame draw:name="f1"><draw:image xlink:href="Pictures/photo.jpg"/></draw:frame>' +
      `<draw:frame draw:name="f2"><draw:image xlink:href="file:///home/${MARK.path}/secreto.png"/></draw:frame></text:p>` +
      '</office:text></office:body></office:document-content>' },
    { name: 'meta.xml', data: `${XML}<office:document-meta ${ns}><office:meta><meta:initial-creator>${MARK.person}</meta:initial-creator>` +
      `<dc:creator>${MARK.person}</dc:creator><meta:generator>${MARK.producer}</meta:generator></office:meta></office:document-meta>` },
    { name: 'settings.xml', data: `${XML}<office:document-settings ${ns}><office:settings><config:config-item xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0" config:name="PrinterName">${MARK.company}</config:config-item></office:settings></office:document-settings>` },
    { name: 'Pictures/photo.jpg', data: jpeg },
    { name: 'Thumbnails/thumbnail.png', data: await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).png().toBuffer() },
  ]);
  return path;
}

/** Writes a PDF by hand from numbered object bodies, computing the xref. */
function assemblePdf(objects: (string | Buffer)[][], trailerExtra: string): Buffer {
  const chunks: Buffer[] = [Buffer.from('%PDF-1.6\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let pos = chunks[0]!.length;
  const offsets: number[] = [];
  objects.forEach((parts, i) => {
    offsets.push(pos);
    const body = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), ...parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p, 'latin1'))), Buffer.from('\nendobj\n')]);
    chunks.push(body);
    pos += body.length;
  });
  const xref = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n` + offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  chunks.push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${trailerExtra} >>\nstartxref\n${pos}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(chunks);
}

/** Two pages; Info, XMP, /ID, JavaScript, an attachment, an annotation author and a GPS JPEG. */
export async function dirtyPdf(dir: string): Promise<string> {
  const jpeg = await gpsJpeg(dir);
  const xmp = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/">` +
    `<dc:creator><rdf:Seq><rdf:li>${MARK.person}</rdf:li></rdf:Seq></dc:creator><xmpMM:DocumentID>uuid:${MARK.xmpId}</xmpMM:DocumentID></rdf:Description></rdf:RDF></x:xmpmeta>`;
  const page1 = 'q 200 0 0 150 100 500 cm /Im1 Do Q BT /F1 24 Tf 100 400 Td (Hola redaccion) Tj ET';
  const page2 = 'BT /F1 24 Tf 100 700 Td (Segunda pagina) Tj ET';
  const stream = (dict: string, data: string | Buffer): (string | Buffer)[] =>
    [`<< ${dict} /Length ${Buffer.byteLength(data)} >>\nstream\n`, data, '\nendstream'];
  const pdf = assemblePdf([
    ['<< /Type /Catalog /Pages 2 0 R /Metadata 5 0 R /OpenAction 7 0 R /Names << /EmbeddedFiles << /Names [(secret.txt) 8 0 R] >> >> >>'],
    ['<< /Type /Pages /Kids [3 0 R 13 0 R] /Count 2 >>'],
    ['<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im1 4 0 R >> /Font << /F1 10 0 R >> >> /Contents 6 0 R /Annots [11 0 R] >>'],
    stream('/Type /XObject /Subtype /Image /Width 64 /Height 48 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode', jpeg),
    stream('/Type /Metadata /Subtype /XML', xmp),
    stream('', page1),
    [`<< /S /JavaScript /JS (app.alert\\('${MARK.js}'\\)) >>`],
    ['<< /Type /Filespec /F (secret.txt) /EF << /F 9 0 R >> >>'],
    stream('/Type /EmbeddedFile', MARK.attachment),
    ['<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'],
    [`<< /Type /Annot /Subtype /Text /Rect [50 50 80 80] /T (${MARK.person}) /Contents (${MARK.annotation}) >>`],
    [`<< /Author (${MARK.person}) /Producer (${MARK.producer}) /Creator (${MARK.company}) /CreationDate (D:20260301090000+01'00') >>`],
    ['<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 10 0 R >> >> /Contents 14 0 R >>'],
    stream('', page2),
  ], `/Info 12 0 R /ID [<${MARK.docId}> <${MARK.docId}>]`);
  const path = join(dir, 'dirty.pdf');
  writeFileSync(path, pdf);
  return path;
}

/** Every planted marker found in `bytes` (case-insensitive, latin1 and UTF-16BE as PDFs store text). */
export function markersIn(bytes: Buffer, markers: string[] = Object.values(MARK)): string[] {
  const text = bytes.toString('latin1').toLowerCase();
  return markers.filter((m) => text.includes(m.toLowerCase()) ||
    bytes.includes(Buffer.from(m, 'utf16le').swap16()));
}

/** exiftool's view of a file, all groups. */
export function exifDump(path: string): string {
  return execFileSync('exiftool', ['-a', '-G1', '-s', path], { encoding: 'utf8' });
}
