/**
 * The pdf.js side of PDF extraction. It runs only in the PDF worker (pdf-worker.ts), never in a
 * host thread: pdf.js's legacy build (needed on Node 20) installs core-js polyfills over the
 * realm's globals (JSON.stringify among them) and detaches ArrayBuffers, and a single detached
 * buffer in an isolate makes its optimized typed-array code check every access (static pooling in
 * the same thread went from ~140 to ~200 ms per 7,640 chunks after one PDF; scratch/pdf-probe.ts).
 */
import type * as PdfJs from 'pdfjs-dist/legacy/build/pdf.mjs';
import { TandemError } from '../common/errors.js';
import type { ExtractResult, PageRange } from './extract-types.js';
import { invalidFile, sha256 } from './source.js';

let pdfjs: Promise<typeof PdfJs> | undefined;

/** pdf.js, loaded on the first PDF. */
function loadPdfJs(): Promise<typeof PdfJs> {
  pdfjs ??= import('pdfjs-dist/legacy/build/pdf.mjs');
  return pdfjs;
}

/** The part of pdf.js's TextItem we use (marked-content items have no `str`). */
interface PdfTextItem {
  str: string;
  transform: number[];
  width: number;
  height: number;
  hasEOL: boolean;
}

/** A vertical gap above this many line heights starts a new paragraph. */
const PARAGRAPH_GAP_LINES = 1.6;
/** A horizontal gap above this fraction of the font size between two items on a line is a word space. */
const WORD_GAP_EM = 0.15;
/** Separator between pages in the document text (a paragraph break, so chunks prefer to end at a page). */
const PAGE_SEPARATOR = '\n\n';

/**
 * PDF: the text layer of every page, pages separated by a blank line, with each page's character
 * range in `pages`. Lines become '\n', clearly larger vertical gaps '\n\n'. A PDF without any text
 * (scanned images) yields an empty document and a warning: there is no OCR. A file pdf.js cannot
 * open (corrupt, encrypted with a password) is INVALID_INPUT.
 */
export async function readPdf(buf: Uint8Array, file: string, key: string, signal?: AbortSignal): Promise<ExtractResult> {
  const hash = sha256(buf);
  const { getDocument, VerbosityLevel } = await loadPdfJs();
  const task = getDocument({
    data: buf, // pdf.js transfers (detaches) it: this runs in the PDF worker, on the worker's own copy
    disableFontFace: true,
    useSystemFonts: false,
    isEvalSupported: false,
    useWorkerFetch: false,
    verbosity: VerbosityLevel.ERRORS,
  });
  const warnings: string[] = [];
  try {
    let pdf;
    try {
      pdf = await task.promise;
    } catch (e) {
      const name = (e as Error).name;
      const reason = name === 'PasswordException' ? 'the PDF is password-protected' : `not a readable PDF (${(e as Error).message})`;
      throw invalidFile(file, reason, e);
    }
    const parts: string[] = [];
    const pages: PageRange[] = [];
    let offset = 0;
    for (let n = 1; n <= pdf.numPages; n++) {
      if (signal?.aborted) throw new TandemError('CANCELLED', 'extraction cancelled');
      let pageText: string;
      try {
        const page = await pdf.getPage(n);
        const content = await page.getTextContent();
        pageText = layoutText(content.items.filter((i): i is PdfTextItem & typeof i => 'str' in i));
        page.cleanup();
      } catch (e) {
        if (e instanceof TandemError) throw e;
        warnings.push(`page ${n}: text could not be read (${(e as Error).message})`);
        pageText = '';
      }
      if (n > 1) {
        parts.push(PAGE_SEPARATOR);
        offset += PAGE_SEPARATOR.length;
      }
      parts.push(pageText);
      pages.push({ page: n, start: offset, end: offset + pageText.length });
      offset += pageText.length;
    }
    let text = parts.join('');
    if (text.trim() === '') {
      warnings.push(`${file}: no text layer (scanned PDF?); OCR is not supported, the document is empty`);
      text = '';
      for (const p of pages) p.start = p.end = 0;
    }
    const title = await pdfTitle(pdf);
    return { docs: [{ key, ...(title ? { title } : {}), text, pages, sha256: hash }], errors: [], warnings };
  } finally {
    await task.destroy();
  }
}

async function pdfTitle(pdf: { getMetadata(): Promise<{ info: object }> }): Promise<string | undefined> {
  try {
    const { info } = await pdf.getMetadata();
    const title = (info as { Title?: unknown }).Title;
    return typeof title === 'string' && title.trim() ? title.trim() : undefined;
  } catch {
    return undefined;
  }
}

/** Text items of one page to lines and paragraphs, in content-stream order. */
export function layoutText(items: readonly PdfTextItem[]): string {
  const lines: Array<{ text: string; y: number; height: number }> = [];
  let line = '';
  let lineY = 0;
  let lineHeight = 0;
  let prevEnd: number | undefined; // x where the previous item on this line ended
  const endLine = () => {
    const t = line.replace(/\s+$/, '');
    if (t.trim() !== '') lines.push({ text: t.replace(/^\s+/, ''), y: lineY, height: lineHeight });
    line = '';
    lineHeight = 0;
    prevEnd = undefined;
  };
  for (const item of items) {
    const x = Number(item.transform[4] ?? 0);
    const y = Number(item.transform[5] ?? 0);
    const size = Math.abs(item.height) || Math.hypot(Number(item.transform[2] ?? 0), Number(item.transform[3] ?? 0)) || 10;
    if (prevEnd !== undefined && Math.abs(y - lineY) > size * 0.5) endLine();
    if (line === '') lineY = y;
    else if (prevEnd !== undefined && x - prevEnd > size * WORD_GAP_EM && !/\s$/.test(line) && !/^\s/.test(item.str)) line += ' ';
    line += item.str;
    if (item.str !== '') lineHeight = Math.max(lineHeight, size);
    prevEnd = x + item.width;
    if (item.hasEOL) endLine();
  }
  endLine();
  let out = '';
  for (let i = 0; i < lines.length; i++) {
    const cur = lines[i]!;
    if (i > 0) {
      const prev = lines[i - 1]!;
      const gap = Math.abs(prev.y - cur.y);
      const h = Math.max(prev.height, cur.height, 1);
      out += gap > h * PARAGRAPH_GAP_LINES ? '\n\n' : '\n';
    }
    out += cur.text;
  }
  return out;
}
