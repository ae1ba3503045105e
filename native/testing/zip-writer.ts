import { crc32, deflateRawSync } from 'node:zlib';

/** One part of a hand-made ZIP: its name and content (deflated unless `stored`). */
export interface ZipPart {
  name: string;
  data: Uint8Array | string;
  stored?: boolean;
  /** Written in the headers instead of the real uncompressed size (to test a reader that trusts it). */
  claimedSize?: number;
  /** Already deflated bytes of `data` with their CRC-32 and real size (for parts too big to hold inflated); `data` is then ignored. */
  deflated?: { body: Uint8Array; crc: number; size: number };
}

/**
 * A ZIP file built by hand (local headers, central directory, end record), for tests that need
 * archives the docx package will not write: zip bombs, lying sizes. `zip64` writes the central
 * directory's sizes and offsets as 0xffffffff with a ZIP64 extra field, and a ZIP64 end record.
 */
export function makeZip(parts: readonly ZipPart[], opts: { zip64?: boolean } = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const p of parts) {
    const raw = p.deflated ? undefined : typeof p.data === 'string' ? Buffer.from(p.data, 'utf8') : Buffer.from(p.data);
    const body = p.deflated ? Buffer.from(p.deflated.body) : p.stored ? raw! : deflateRawSync(raw!, { level: 9 });
    const name = Buffer.from(p.name, 'utf8');
    const crc = p.deflated ? p.deflated.crc : crc32(raw!);
    const size = p.claimedSize ?? p.deflated?.size ?? raw!.length;
    const method = p.stored && !p.deflated ? 0 : 8;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(Math.min(size, 0xffffffff), 22);
    local.writeUInt16LE(name.length, 26);
    const extra = Buffer.alloc(opts.zip64 ? 28 : 0);
    if (opts.zip64) {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(size), 4);
      extra.writeBigUInt64LE(BigInt(body.length), 12);
      extra.writeBigUInt64LE(BigInt(offset), 20);
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(Math.min(size, 0xffffffff), 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    if (opts.zip64) {
      central.writeUInt32LE(0xffffffff, 20);
      central.writeUInt32LE(0xffffffff, 24);
      central.writeUInt32LE(0xffffffff, 42);
      central.writeUInt16LE(extra.length, 30);
    }
    locals.push(local, name, body);
    centrals.push(central, name, extra);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  if (!opts.zip64) return Buffer.concat([...locals, cd, end]);
  end.writeUInt16LE(0xffff, 8);
  end.writeUInt16LE(0xffff, 10);
  end.writeUInt32LE(0xffffffff, 12);
  end.writeUInt32LE(0xffffffff, 16);
  const z = Buffer.alloc(56);
  z.writeUInt32LE(0x06064b50, 0);
  z.writeBigUInt64LE(44n, 4);
  z.writeUInt16LE(45, 12);
  z.writeUInt16LE(45, 14);
  z.writeBigUInt64LE(BigInt(parts.length), 24);
  z.writeBigUInt64LE(BigInt(parts.length), 32);
  z.writeBigUInt64LE(BigInt(cd.length), 40);
  z.writeBigUInt64LE(BigInt(offset), 48);
  const loc = Buffer.alloc(20);
  loc.writeUInt32LE(0x07064b50, 0);
  loc.writeBigUInt64LE(BigInt(offset + cd.length), 8);
  loc.writeUInt32LE(1, 16);
  return Buffer.concat([...locals, cd, z, loc, end]);
}

const W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';

/** The smallest DOCX mammoth reads: content types, the package relationship, and `documentXml`. */
export function makeDocx(documentXml: Uint8Array | string | NonNullable<ZipPart['deflated']>, opts: { claimedSize?: number; zip64?: boolean } = {}): Buffer {
  const doc: ZipPart =
    typeof documentXml === 'string' || documentXml instanceof Uint8Array
      ? { name: 'word/document.xml', data: documentXml }
      : { name: 'word/document.xml', data: '', deflated: documentXml };
  return makeZip([
    {
      name: '[Content_Types].xml',
      data:
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
        '<Default Extension="xml" ContentType="application/xml"/>' +
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    },
    {
      name: '_rels/.rels',
      data:
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    },
    { ...doc, ...(opts.claimedSize !== undefined ? { claimedSize: opts.claimedSize } : {}) },
  ], { zip64: opts.zip64 ?? false });
}

/** A word/document.xml of `paragraphs` copies of one paragraph `text`. */
export function documentXml(paragraphs: number, text: string): Buffer {
  const head = Buffer.from(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="${W}"><w:body>`);
  const para = Buffer.from(`<w:p><w:r><w:t xml:space="preserve">${text}</w:t></w:r></w:p>`);
  const tail = Buffer.from('</w:body></w:document>');
  const out = Buffer.allocUnsafe(head.length + para.length * paragraphs + tail.length);
  head.copy(out, 0);
  for (let i = 0; i < paragraphs; i++) para.copy(out, head.length + i * para.length);
  tail.copy(out, head.length + para.length * paragraphs);
  return out;
}
