/** Character range of one 1-based page in a document's `text` ([start, end), page text only, no separator). */
export interface PageRange {
  page: number;
  start: number;
  end: number;
}

/** One searchable document taken from a file (a file, a CSV row, or a JSONL line). */
export interface ExtractedDoc {
  /** Stable key: the relative path; `${relPath}#row${n}` for CSV/TSV rows; the `_id` for JSONL lines. */
  key: string;
  title?: string;
  /** Extracted text, newlines normalised to '\n'; paragraphs are separated by a blank line where the format has them. */
  text: string;
  /** PDFs only: where each page's text sits in `text`. */
  pages?: PageRange[];
  /** sha256 of the source bytes: the whole file, or the JSONL line / CSV record the document came from. */
  sha256: string;
}

/** A bad line (JSONL) or record (CSV/TSV) that was skipped while the rest of the file was kept. */
export interface LineError {
  line: number;
  message: string;
}

export interface ExtractResult {
  docs: ExtractedDoc[];
  /** Per-line problems; the file itself still succeeded. */
  errors: LineError[];
  /** Things the user should know that are not errors (a PDF without a text layer, an odd encoding...). */
  warnings: string[];
}

/** A CSV/TSV column: its header name, or its 0-based index. */
export type ColumnRef = string | number;

export interface ExtractOptions {
  /** Document key (and key prefix for rows); default the file's base name. Use the walk's relPath. */
  relPath?: string;
  /** CSV/TSV: the columns that form the text; default every text-looking column. */
  columns?: readonly ColumnRef[];
  /** CSV/TSV: the column whose value becomes the row's title; default a column named "title", if any. */
  titleColumn?: ColumnRef;
  /** CSV/TSV: whether the first record is a header; default detected. */
  header?: boolean;
  /** CSV/TSV: one document per row, one for the whole file, or decided from the content (default 'auto'). */
  tableMode?: 'auto' | 'rows' | 'file';
  signal?: AbortSignal;
  /** The file's size as the walk saw it: small files are read synchronously (ingest/source.ts). */
  sizeHint?: number;
}
