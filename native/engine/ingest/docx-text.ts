import type Mammoth from 'mammoth';
import { lazyModule } from '../node/lazy-module.js';
import type { ExtractResult } from './extract-types.js';
import { invalidFile, normalizeNewlines, sha256 } from './source.js';
import { inflateEntry, readZipDirectory, ZipFormatError, type ZipEntry } from './zip-directory.js';

const mammoth = lazyModule<typeof Mammoth>('mammoth');

const MB = 1 << 20;

/** What a DOCX may expand to before it is parsed (see extract-docx.ts for the defaults and why). */
export interface DocxLimits {
  /** Total inflated size of the XML parts (everything mammoth parses: .xml and .rels). */
  maxXmlBytes: number;
  /** Largest inflated/compressed ratio of one XML part bigger than `ratioFloorBytes`. */
  maxRatio: number;
  ratioFloorBytes: number;
}

/** The parts mammoth parses; media (images) are never inflated for text. */
function isXmlPart(e: ZipEntry): boolean {
  return /\.(xml|rels)$/i.test(e.name);
}

/** A size as "80 MB", "7.7 MB" or "31 KB". */
const sizeText = (n: number): string => (n >= 10 * MB ? `${Math.round(n / MB)} MB` : n >= MB ? `${(n / MB).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`);

/**
 * Reads the DOCX's ZIP central directory (no inflating) and refuses a file whose XML parts claim
 * to expand past `limits`, with an INVALID_INPUT naming the file, the expanded size and the part:
 * "docx expands to 80 MB ...". Returns the entries.
 */
export function checkDocxArchive(buf: Uint8Array, file: string, limits: DocxLimits): ZipEntry[] {
  if (buf.length < 4 || buf[0] !== 0x50 || buf[1] !== 0x4b || buf[2] !== 0x03 || buf[3] !== 0x04) throw invalidFile(file, 'not a DOCX file (no ZIP signature)');
  let entries: ZipEntry[];
  try {
    entries = readZipDirectory(buf);
  } catch (e) {
    if (e instanceof ZipFormatError) throw invalidFile(file, `corrupt or unsupported DOCX (${e.message})`, e);
    throw e;
  }
  const xml = entries.filter(isXmlPart);
  const total = xml.reduce((n, e) => n + e.uncompressedSize, 0);
  if (total > limits.maxXmlBytes) {
    const biggest = xml.reduce((a, b) => (b.uncompressedSize > a.uncompressedSize ? b : a));
    throw invalidFile(file, `docx expands to ${sizeText(total)} of XML (${biggest.name}: ${sizeText(biggest.uncompressedSize)}); the limit is ${sizeText(limits.maxXmlBytes)}`);
  }
  for (const e of xml) {
    const ratio = e.uncompressedSize / Math.max(1, e.compressedSize);
    if (e.uncompressedSize > limits.ratioFloorBytes && ratio > limits.maxRatio) {
      throw invalidFile(file, `docx expands to ${sizeText(total)} of XML: ${e.name} inflates ${Math.round(ratio)} times (${sizeText(e.compressedSize)} to ${sizeText(e.uncompressedSize)}; the limit is ${limits.maxRatio} times), a zip bomb or a damaged file`);
    }
  }
  return entries;
}

/**
 * DOCX: the raw text of the body through mammoth (paragraphs separated by a blank line), after
 * checking the archive (checkDocxArchive) and that its XML parts really inflate within
 * `limits.maxXmlBytes` (the sizes in the headers may lie). Runs in the DOCX worker.
 */
export async function readDocx(data: Uint8Array, file: string, key: string, limits: DocxLimits): Promise<ExtractResult> {
  const entries = checkDocxArchive(data, file, limits);
  let left = limits.maxXmlBytes;
  for (const e of entries.filter(isXmlPart)) {
    try {
      left -= inflateEntry(data, e, left).length;
    } catch (err) {
      if (!(err instanceof ZipFormatError)) throw err;
      if (err.tooLarge) {
        throw invalidFile(file, `docx expands to more than ${sizeText(limits.maxXmlBytes)} of XML (${e.name} inflates past what its header says); the limit is ${sizeText(limits.maxXmlBytes)}`, err);
      }
      throw invalidFile(file, `corrupt or unsupported DOCX (${err.message})`, err);
    }
  }
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let result: { value: string; messages: Array<{ type: string; message: string }> };
  try {
    result = await mammoth().extractRawText({ buffer: buf });
  } catch (e) {
    throw invalidFile(file, `corrupt or unsupported DOCX (${(e as Error).message})`, e);
  }
  const text = normalizeNewlines(result.value)
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  const warnings = result.messages.map((m) => `${m.type}: ${m.message}`);
  return { docs: [{ key, text, sha256: sha256(buf) }], errors: [], warnings };
}
