import fs from 'node:fs';
import path from 'node:path';
import { TandemError } from '../common/errors.js';
import { extractDocx } from './extract-docx.js';
import { extractHtml } from './extract-html.js';
import { extractJsonl } from './extract-jsonl.js';
import { extractPdf } from './extract-pdf.js';
import { extractTable } from './extract-table.js';
import { extractPlainText } from './extract-text.js';
import type { ExtractOptions, ExtractResult } from './extract-types.js';
import { type FileType, fileType } from './file-types.js';
import { readSource } from './source.js';

const MB = 1 << 20;
/**
 * The largest file of each kind read whole. Indexing holds a text about ten times over at its peak
 * (bytes, string, the worker's copy, chunks, SQLite): a 50 MB one-line text file peaked at 543 MB
 * RSS, 133 MB of text with curly quotes (a two-byte string) at 1,434 MB, so text stops at 96 MB to
 * keep one file under 1.5 GB. HTML also builds a DOM. PDF and DOCX have workers of their own (and
 * DOCX its zip-bomb limits, extract-docx.ts); JSONL is streamed line by line.
 */
export const MAX_FILE_BYTES: Readonly<Partial<Record<FileType, number>>> = { txt: 96 * MB, md: 96 * MB, code: 96 * MB, csv: 96 * MB, tsv: 96 * MB, html: 32 * MB, docx: 256 * MB };

export type { ColumnRef, ExtractedDoc, ExtractOptions, ExtractResult, LineError, PageRange } from './extract-types.js';
export { iterateJsonl, type JsonlItem } from './extract-jsonl.js';

/**
 * The documents in one file. `type` defaults to the one its extension implies (`fileType`).
 * Keys are `opts.relPath` (default the base name), `${relPath}#row${n}` for CSV/TSV rows, and the
 * `_id` for JSONL lines. Bad JSONL lines / CSV records land in `errors` and the rest is kept; a
 * corrupt or unsupported file throws TandemError INVALID_INPUT naming the file and the reason
 * (NOT_FOUND when it is missing), which the caller records as that file's error.
 */
export async function extractFile(file: string, type?: FileType, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const kind = type ?? fileType(file);
  if (!kind) throw new TandemError('INVALID_INPUT', `${file}: unsupported file type${path.extname(file) ? ` (${path.extname(file)})` : ''}`, { data: { file } });
  const key = opts.relPath ?? path.basename(file);
  if (kind === 'jsonl') {
    await assertFile(file);
    return extractJsonl(file, opts.signal);
  }
  const buf = await readSource(file, opts.sizeHint, MAX_FILE_BYTES[kind]);
  switch (kind) {
    case 'txt':
    case 'md':
    case 'code':
      return extractPlainText(buf, file, key, kind);
    case 'html':
      return extractHtml(buf, file, key);
    case 'pdf':
      return extractPdf(buf, file, key, opts.signal);
    case 'docx':
      return extractDocx(buf, file, key, opts.signal);
    case 'csv':
      return extractTable(buf, file, key, ',', opts);
    case 'tsv':
      return extractTable(buf, file, key, '\t', opts);
  }
}

async function assertFile(file: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch (e) {
    throw new TandemError('NOT_FOUND', `${file} does not exist`, { cause: e, data: { file } });
  }
  if (!st.isFile()) throw new TandemError('INVALID_INPUT', `${file}: not a file`, { data: { file } });
}
