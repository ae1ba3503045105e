/**
 * Where chunks lie in their document, finer than a start offset: the line a chunk starts on
 * (text-like formats) and the pages that begin inside it (paged formats). Search uses them to
 * report the line range and the page of the passage that matched, not of the chunk's start.
 */
import type { FileType } from './file-types.js';
import type { PageRange } from './extract-types.js';

/** Formats whose extracted text keeps the source's lines, so line numbers mean something. */
export const LINE_FORMATS: ReadonlySet<FileType> = new Set<FileType>(['txt', 'md', 'code']);

export interface ChunkLocation {
  /** 1-based line of the chunk's start; undefined where lines mean nothing. */
  line?: number;
  /** Pages that begin inside the chunk, as [offset within the chunk, page]. */
  pageBreaks?: Array<[number, number]>;
}

/**
 * Locations for chunks of one document, given in ascending `start` order (as the chunker emits
 * them). One pass over the text: newlines are counted once, however much the chunks overlap.
 */
export function chunkLocations(
  text: string,
  fileType: FileType,
  pages: readonly PageRange[] | undefined,
  chunks: ReadonlyArray<{ start: number; end: number }>,
): ChunkLocation[] {
  const lines = LINE_FORMATS.has(fileType);
  const sortedPages = pages && pages.length > 1 ? [...pages].sort((a, b) => a.start - b.start) : undefined;
  let pos = 0;
  let line = 1;
  return chunks.map(({ start, end }) => {
    const loc: ChunkLocation = {};
    if (lines) {
      if (start < pos) {
        pos = 0;
        line = 1;
      }
      for (let i = text.indexOf('\n', pos); i !== -1 && i < start; i = text.indexOf('\n', i + 1)) line++;
      pos = start;
      loc.line = line;
    }
    if (sortedPages) {
      const breaks: Array<[number, number]> = [];
      for (const p of sortedPages) if (p.start > start && p.start < end) breaks.push([p.start - start, p.page]);
      if (breaks.length) loc.pageBreaks = breaks;
    }
    return loc;
  });
}

/** The page holding `offset` within a chunk that starts on `page` and has these breaks. */
export function pageAt(page: number | null, pageBreaks: ReadonlyArray<readonly [number, number]> | null | undefined, offset: number): number | null {
  let p = page;
  for (const [at, n] of pageBreaks ?? []) if (at <= offset) p = n;
  return p;
}

/** The 1-based lines spanned by [from, to) of a chunk starting on line `line`. */
export function linesAt(line: number, chunkText: string, from: number, to: number): { start: number; end: number } {
  let start = line;
  for (let i = chunkText.indexOf('\n'); i !== -1 && i < from; i = chunkText.indexOf('\n', i + 1)) start++;
  let end = start;
  for (let i = chunkText.indexOf('\n', from); i !== -1 && i < Math.max(from, to - 1); i = chunkText.indexOf('\n', i + 1)) end++;
  return { start, end };
}
