import type Mammoth from 'mammoth';
import { lazyModule } from '../engine/node/lazy-module.js';
import type { ExtractResult } from './extract-types.js';
import { invalidFile, normalizeNewlines, sha256 } from './source.js';

const mammoth = lazyModule<typeof Mammoth>('mammoth');

/** DOCX: the raw text of the body through mammoth (paragraphs separated by a blank line). */
export async function extractDocx(buf: Buffer, file: string, key: string): Promise<ExtractResult> {
  if (buf.length < 4 || buf.readUInt32LE(0) !== 0x04034b50) throw invalidFile(file, 'not a DOCX file (no ZIP signature)');
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
