/**
 * Dirty XLSX, PPTX and ODS packages, built like doc-fixtures.ts: each plants the markers where Excel,
 * PowerPoint and LibreOffice Calc really keep people (document properties, comment authors, revision
 * user names, the save path) and a GPS photo in the media folder.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { MARK, gpsJpeg, writeTestZip } from './doc-fixtures.ts';

const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_RELS = 'http://schemas.openxmlformats.org/package/2006/relationships';
const CT = 'application/vnd.openxmlformats-officedocument';

/** docProps core/app/custom and the package rels that point at them, shared by XLSX and PPTX. */
function docProps(mainTarget: string): { name: string; data: string }[] {
  return [
    { name: '_rels/.rels', data: `${XML}<Relationships xmlns="${PKG_RELS}">` +
      `<Relationship Id="rId1" Type="${REL}/officeDocument" Target="${mainTarget}"/>` +
      `<Relationship Id="rId2" Type="${PKG_RELS}/metadata/core-properties" Target="docProps/core.xml"/>` +
      `<Relationship Id="rId3" Type="${REL}/extended-properties" Target="docProps/app.xml"/>` +
      `<Relationship Id="rId4" Type="${REL}/custom-properties" Target="docProps/custom.xml"/></Relationships>` },
    { name: 'docProps/core.xml', data: `${XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">` +
      `<dc:creator>${MARK.person}</dc:creator><cp:lastModifiedBy>${MARK.person}</cp:lastModifiedBy></cp:coreProperties>` },
    { name: 'docProps/app.xml', data: `${XML}<Properties xmlns="${REL.replace('relationships', 'extended-properties')}"><Company>${MARK.company}</Company><Manager>${MARK.person}</Manager></Properties>` },
    { name: 'docProps/custom.xml', data: `${XML}<Properties xmlns="${REL.replace('relationships', 'custom-properties')}"><property name="EmployeeId">${MARK.company}</property></Properties>` },
  ];
}

const overrides = (parts: [string, string][]): string =>
  `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
  '<Default Extension="xml" ContentType="application/xml"/><Default Extension="jpeg" ContentType="image/jpeg"/>' +
  parts.map(([p, t]) => `<Override PartName="/${p}" ContentType="${t}"/>`).join('') +
  `<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>` +
  `<Override PartName="/docProps/app.xml" ContentType="${CT}.extended-properties+xml"/>` +
  `<Override PartName="/docProps/custom.xml" ContentType="${CT}.custom-properties+xml"/></Types>`;

export async function dirtyXlsx(dir: string): Promise<string> {
  const jpeg = await gpsJpeg(dir);
  const path = join(dir, 'dirty.xlsx');
  const S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="' + REL + '"';
  await writeTestZip(path, [
    { name: '[Content_Types].xml', data: overrides([
      ['xl/workbook.xml', `${CT}.spreadsheetml.sheet.main+xml`], ['xl/worksheets/sheet1.xml', `${CT}.spreadsheetml.worksheet+xml`],
      ['xl/comments1.xml', `${CT}.spreadsheetml.comments+xml`], ['xl/drawings/drawing1.xml', `${CT}.drawing+xml`],
      ['xl/persons/person.xml', 'application/vnd.ms-excel.person+xml']]) },
    ...docProps('xl/workbook.xml'),
    { name: 'xl/workbook.xml', data: `${XML}<workbook ${S} xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac">` +
      `<fileSharing userName="${MARK.person}" readOnlyRecommended="1"/>` +
      `<mc:AlternateContent><mc:Choice Requires="x15"><x15ac:absPath url="C:\\Users\\${MARK.path}\\Documents\\"/></mc:Choice></mc:AlternateContent>` +
      '<sheets><sheet name="Pagos" sheetId="1" r:id="rId1"/></sheets></workbook>' },
    { name: 'xl/_rels/workbook.xml.rels', data: `${XML}<Relationships xmlns="${PKG_RELS}">` +
      `<Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/>` +
      `<Relationship Id="rId2" Type="http://schemas.microsoft.com/office/2017/10/relationships/person" Target="persons/person.xml"/></Relationships>` },
    { name: 'xl/worksheets/sheet1.xml', data: `${XML}<worksheet ${S}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Pagos a la policía municipal</t></is></c></row></sheetData><drawing r:id="rId2"/></worksheet>` },
    { name: 'xl/worksheets/_rels/sheet1.xml.rels', data: `${XML}<Relationships xmlns="${PKG_RELS}">` +
      `<Relationship Id="rId1" Type="${REL}/comments" Target="../comments1.xml"/>` +
      `<Relationship Id="rId2" Type="${REL}/drawing" Target="../drawings/drawing1.xml"/></Relationships>` },
    { name: 'xl/comments1.xml', data: `${XML}<comments ${S}><authors><author>${MARK.person}</author></authors>` +
      '<commentList><comment ref="A1" authorId="0"><text><r><t>Confirmar con la fuente</t></r></text></comment></commentList></comments>' },
    { name: 'xl/persons/person.xml', data: `${XML}<personList xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">` +
      `<person displayName="${MARK.person}" id="{00000000-0000-0000-0000-000000000001}" userId="S::${MARK.path}@example.org::1234" providerId="AD"/></personList>` },
    { name: 'xl/drawings/drawing1.xml', data: `${XML}<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="${REL}">` +
      '<xdr:pic><xdr:blipFill><a:blip r:embed="rId1"/></xdr:blipFill></xdr:pic></xdr:wsDr>' },
    { name: 'xl/drawings/_rels/drawing1.xml.rels', data: `${XML}<Relationships xmlns="${PKG_RELS}"><Relationship Id="rId1" Type="${REL}/image" Target="../media/image1.jpeg"/></Relationships>` },
    { name: 'xl/revisions/userNames.xml', data: `${XML}<users xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1">` +
      `<userInfo guid="{00000000-0000-0000-0000-000000000002}" name="${MARK.person}" id="1" dateTime="2026-03-01T09:00:00"/></users>` },
    { name: 'xl/media/image1.jpeg', data: jpeg },
  ]);
  return path;
}

export async function dirtyPptx(dir: string): Promise<string> {
  const jpeg = await gpsJpeg(dir);
  const path = join(dir, 'dirty.pptx');
  const P = `xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="${REL}"`;
  await writeTestZip(path, [
    { name: '[Content_Types].xml', data: overrides([
      ['ppt/presentation.xml', `${CT}.presentationml.presentation.main+xml`], ['ppt/slides/slide1.xml', `${CT}.presentationml.slide+xml`],
      ['ppt/commentAuthors.xml', `${CT}.presentationml.commentAuthors+xml`], ['ppt/comments/comment1.xml', `${CT}.presentationml.comments+xml`]]) },
    ...docProps('ppt/presentation.xml'),
    { name: 'ppt/presentation.xml', data: `${XML}<p:presentation ${P}><p:sldIdLst><p:sldId id="256" r:id="rId1"/></p:sldIdLst></p:presentation>` },
    { name: 'ppt/_rels/presentation.xml.rels', data: `${XML}<Relationships xmlns="${PKG_RELS}">` +
      `<Relationship Id="rId1" Type="${REL}/slide" Target="slides/slide1.xml"/>` +
      `<Relationship Id="rId2" Type="${REL}/commentAuthors" Target="commentAuthors.xml"/></Relationships>` },
    { name: 'ppt/commentAuthors.xml', data: `${XML}<p:cmAuthorLst ${P}><p:cmAuthor id="0" name="${MARK.person}" initials="AI" lastIdx="1" clrIdx="0"/></p:cmAuthorLst>` },
    { name: 'ppt/slides/slide1.xml', data: `${XML}<p:sld ${P}><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>Pagos a la policía municipal</a:t></a:r></a:p></p:txBody></p:sp>` +
      '<p:pic><p:blipFill><a:blip r:embed="rId2"/></p:blipFill></p:pic></p:spTree></p:cSld></p:sld>' },
    { name: 'ppt/slides/_rels/slide1.xml.rels', data: `${XML}<Relationships xmlns="${PKG_RELS}">` +
      `<Relationship Id="rId1" Type="${REL}/comments" Target="../comments/comment1.xml"/>` +
      `<Relationship Id="rId2" Type="${REL}/image" Target="../media/image1.jpeg"/></Relationships>` },
    { name: 'ppt/comments/comment1.xml', data: `${XML}<p:cmLst ${P}><p:cm authorId="0" dt="2026-03-01T09:00:00.000" idx="1"><p:pos x="10" y="10"/><p:text>Confirmar con la fuente</p:text></p:cm></p:cmLst>` },
    { name: 'ppt/authors.xml', data: `${XML}<p188:authorLst xmlns:p188="http://schemas.microsoft.com/office/powerpoint/2018/8/main">` +
      `<p188:author id="{00000000-0000-0000-0000-000000000003}" name="${MARK.person}" initials="AI" userId="S::${MARK.path}@example.org::1234" providerId="AD"/></p188:authorLst>` },
    { name: 'ppt/comments/modernComment_100_1.xml', data: `${XML}<p188:cmLst xmlns:p188="http://schemas.microsoft.com/office/powerpoint/2018/8/main" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">` +
      '<p188:cm id="{00000000-0000-0000-0000-000000000004}" authorId="{00000000-0000-0000-0000-000000000003}" created="2026-03-01T09:00:00.000">' +
      '<p188:txBody><a:p><a:r><a:t>Revisar</a:t></a:r></a:p></p188:txBody></p188:cm></p188:cmLst>' },
    { name: 'ppt/media/image1.jpeg', data: jpeg },
  ]);
  return path;
}

export async function dirtyOds(dir: string): Promise<string> {
  const jpeg = await gpsJpeg(dir);
  const path = join(dir, 'dirty.ods');
  const ns = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" ' +
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" ' +
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" ' +
    'xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.3"';
  await writeTestZip(path, [
    { name: 'mimetype', data: 'application/vnd.oasis.opendocument.spreadsheet', store: true },
    { name: 'META-INF/manifest.xml', data: `${XML}<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">` +
      '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>' +
      '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>' +
      '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>' +
      '<manifest:file-entry manifest:full-path="Pictures/photo.jpg" manifest:media-type="image/jpeg"/>' +
      '<manifest:file-entry manifest:full-path="Thumbnails/thumbnail.png" manifest:media-type="image/png"/></manifest:manifest>' },
    { name: 'content.xml', data: `${XML}<office:document-content ${ns}><office:body><office:spreadsheet>` +
      '<table:tracked-changes><table:cell-content-change table:id="ct1"><table:cell-address table:column="0" table:row="0" table:table="0"/>' +
      `<office:change-info><dc:creator>${MARK.person}</dc:creator><dc:date>2026-03-01T09:00:00</dc:date></office:change-info></table:cell-content-change></table:tracked-changes>` +
      '<table:table table:name="Pagos"><table:table-row><table:table-cell office:value-type="string"><text:p>Pagos a la policía municipal</text:p>' +
      `<office:annotation><dc:creator>${MARK.person}</dc:creator><dc:date>2026-03-01T09:00:00</dc:date><text:p>Confirmar</text:p></office:annotation>` +
      '<draw:frame draw:name="f1"><draw:image xlink:href="Pictures/photo.jpg"/></draw:frame>' +
      '</table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>' },
    { name: 'meta.xml', data: `${XML}<office:document-meta ${ns}><office:meta><meta:initial-creator>${MARK.person}</meta:initial-creator>` +
      `<dc:creator>${MARK.person}</dc:creator><meta:generator>${MARK.producer}</meta:generator>` +
      `<meta:user-defined meta:name="Empresa">${MARK.company}</meta:user-defined></office:meta></office:document-meta>` },
    { name: 'Pictures/photo.jpg', data: jpeg },
    { name: 'Thumbnails/thumbnail.png', data: await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).png().toBuffer() },
  ]);
  return path;
}
