import { parse } from 'csv-parse/sync';
import { TandemError } from '../common/errors.js';
import type { ColumnRef, ExtractedDoc, ExtractOptions, ExtractResult, LineError } from './extract-types.js';
import { decodeText, sha256 } from './source.js';

/**
 * CSV/TSV layout decision (tableMode 'auto'):
 *
 * A search hit should be something a person can act on. In a table with a header (papers with
 * title/abstract, FAQ question/answer, tickets...) that is a ROW: one document per row, its text
 * the chosen cells labelled with their column names ("title: ...\nabstract: ..."), so each row
 * embeds on its own with its context, and a hit points at `${relPath}#row${n}`. Without a header
 * the cells have no names to label them and rows are often fragments (a numeric dump, a word
 * list), and past ROW_DOCS_LIMIT rows a document per row would flood the library: then the whole
 * file is ONE document, one line per row with cells joined by ' | ', which the chunker packs into
 * chunks of whole rows. `tableMode: 'rows' | 'file'` forces either.
 */
export const ROW_DOCS_LIMIT = 1_000_000;

/** Cells joined with this in whole-file mode and for header-less rows. */
const CELL_SEPARATOR = ' | ';
/** Rows sampled to decide which columns hold text. */
const SAMPLE_ROWS = 200;
/** Header cells are short labels. */
const MAX_HEADER_CELL = 100;

interface ParsedRecord {
  record: string[];
  raw: string;
  info: { lines: number };
}

interface Table {
  header: string[] | undefined;
  rows: Array<{ cells: string[]; raw: string; line: number }>;
  errors: LineError[];
}

/** CSV (RFC 4180 quoting) or TSV: documents per row or for the whole file, see ROW_DOCS_LIMIT. */
export function extractTable(buf: Buffer, file: string, key: string, delimiter: ',' | '\t', opts: ExtractOptions): ExtractResult {
  const { text, warnings } = decodeText(buf, file);
  const table = parseTable(text, delimiter, opts.header);
  const width = Math.max(table.header?.length ?? 0, ...table.rows.slice(0, SAMPLE_ROWS).map((r) => r.cells.length), 0);
  const columns = opts.columns ? resolveColumns(opts.columns, table.header, width, file) : textColumns(table, width);
  const titleIndex = opts.titleColumn !== undefined ? resolveColumns([opts.titleColumn], table.header, width, file)[0] : table.header?.findIndex((h) => h.trim().toLowerCase() === 'title');
  const mode = opts.tableMode ?? 'auto';
  const perRow = mode === 'rows' || (mode === 'auto' && table.header !== undefined && table.rows.length <= ROW_DOCS_LIMIT);

  if (!perRow) {
    const lines = table.header ? [columns.map((c) => table.header?.[c] ?? '').join(CELL_SEPARATOR)] : [];
    for (const row of table.rows) {
      const line = columns.map((c) => oneLine(row.cells[c] ?? '')).join(CELL_SEPARATOR);
      if (line.replace(/[\s|]/g, '') !== '') lines.push(line);
    }
    return { docs: [{ key, text: lines.join('\n'), sha256: sha256(buf) }], errors: table.errors, warnings };
  }

  const docs: ExtractedDoc[] = [];
  let empty = 0;
  table.rows.forEach((row, i) => {
    const text = rowText(row.cells, columns, table.header);
    if (text === '') {
      empty++;
      return;
    }
    const title = titleIndex !== undefined && titleIndex >= 0 ? row.cells[titleIndex]?.trim() : undefined;
    docs.push({ key: `${key}#row${i + 1}`, ...(title ? { title } : {}), text, sha256: sha256(row.raw) });
  });
  if (empty > 0) warnings.push(`${empty} row(s) have no text in the chosen columns and were left out`);
  return { docs, errors: table.errors, warnings };
}

function parseTable(text: string, delimiter: ',' | '\t', header: boolean | undefined): Table {
  const errors: LineError[] = [];
  // TSV has no quoting by its definition; honour quotes only when some field starts with one,
  // so a stray '"' inside a TSV cell does not swallow the rest of the file.
  const quote = delimiter === ',' || /(?:^|\t)"/m.test(text) ? '"' : false;
  const parsed = parse(text, {
    delimiter,
    quote,
    info: true,
    raw: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      errors.push({ line: typeof err?.lines === 'number' ? err.lines : 0, message: err?.message ?? 'unreadable record' });
      return undefined;
    },
  }) as unknown as ParsedRecord[];
  const rows = parsed.map((p) => {
    const raw = p.raw.replace(/\n$/, '');
    return { cells: p.record, raw, line: p.info.lines - countNewlines(raw) };
  });
  const first = rows[0];
  const hasHeader = header ?? (first !== undefined && looksLikeHeader(first.cells, rows.length));
  if (hasHeader && first) return { header: first.cells.map((c) => c.trim()), rows: rows.slice(1), errors };
  return { header: undefined, rows, errors };
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** A header is a first record of short, distinct, non-empty, non-numeric labels, followed by data. */
export function looksLikeHeader(cells: readonly string[], records: number): boolean {
  if (records < 2 || cells.length === 0) return false;
  const seen = new Set<string>();
  for (const raw of cells) {
    const c = raw.trim();
    if (c === '' || c.length > MAX_HEADER_CELL || isNumeric(c) || seen.has(c.toLowerCase())) return false;
    seen.add(c.toLowerCase());
  }
  return true;
}

function isNumeric(s: string): boolean {
  return /^[-+]?(?:\d[\d,_]*\.?\d*|\.\d+)(?:e[-+]?\d+)?%?$/i.test(s.trim());
}

/** Column refs (header names, case-insensitive, or 0-based indices) to indices. */
function resolveColumns(refs: readonly ColumnRef[], header: readonly string[] | undefined, width: number, file: string): number[] {
  return refs.map((ref) => {
    if (typeof ref === 'number') {
      if (!Number.isInteger(ref) || ref < 0 || ref >= width) {
        throw new TandemError('INVALID_ARGUMENT', `${file}: column index ${ref} is out of range (the table has ${width} column(s), 0-based)`);
      }
      return ref;
    }
    if (!header) throw new TandemError('INVALID_ARGUMENT', `${file}: column "${ref}" given by name, but the file has no header row; use a 0-based index`);
    const want = ref.trim().toLowerCase();
    const i = header.findIndex((h) => h.toLowerCase() === want);
    if (i < 0) throw new TandemError('INVALID_ARGUMENT', `${file}: no column "${ref}"; columns are ${header.map((h) => JSON.stringify(h)).join(', ')}`);
    return i;
  });
}

/** Columns with at least one non-numeric, non-boolean value in the first rows; all columns if none. */
function textColumns(table: Table, width: number): number[] {
  const all = Array.from({ length: width }, (_, i) => i);
  const sample = table.rows.slice(0, SAMPLE_ROWS);
  const texty = all.filter((c) =>
    sample.some((r) => {
      const v = (r.cells[c] ?? '').trim();
      return v !== '' && !isNumeric(v) && !/^(?:true|false|yes|no|null|nan|n\/a)$/i.test(v);
    }),
  );
  return texty.length > 0 ? texty : all;
}

/** One row's text: a lone column's value as is; several as "name: value" lines (header) or ' | '-joined. */
function rowText(cells: readonly string[], columns: readonly number[], header: readonly string[] | undefined): string {
  if (columns.length === 1) return (cells[columns[0]!] ?? '').trim();
  const parts: string[] = [];
  for (const c of columns) {
    const v = (cells[c] ?? '').trim();
    if (v === '') continue;
    parts.push(header ? `${header[c] ?? `column ${c}`}: ${v}` : oneLine(v));
  }
  return parts.join(header ? '\n' : CELL_SEPARATOR);
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
