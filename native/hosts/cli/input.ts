import fs from 'node:fs';
import path from 'node:path';
import { TandemError } from '../../engine/common/errors.js';

export interface InputItem {
  id: string | number;
  text: string;
  /** 1-based line number in the input file (or position among --text values). */
  line: number;
}

export interface InputProblem {
  line: number;
  message: string;
}

export interface ParsedInput {
  format: 'jsonl' | 'text';
  items: InputItem[];
  problems: InputProblem[];
  /** Blank lines skipped in a plain text file. */
  blankLines: number;
}

/** Files above this are refused with a clear message (split them, or use `tandem index`). */
export const MAX_INPUT_BYTES = 2 * 1024 ** 3 - 1;

const decoder = new TextDecoder('utf-8', { fatal: true });

function detectFormat(file: string, firstLine: string | undefined): 'jsonl' | 'text' {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.txt') return 'text';
  return firstLine?.trimStart().startsWith('{') ? 'jsonl' : 'text';
}

/** Split a buffer into byte lines (LF or CRLF), without decoding. */
function splitLines(buf: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, start);
    const end = nl === -1 ? buf.length : nl;
    let line = buf.subarray(start, end);
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    if (nl === -1) {
      if (line.length > 0) lines.push(line);
      break;
    }
    lines.push(line);
    start = nl + 1;
  }
  return lines;
}

function firstBadByte(b: Buffer): number {
  // Find the offset where UTF-8 decoding fails, for the message.
  for (let lo = 0, hi = b.length; ; ) {
    if (hi - lo <= 1) return lo;
    const mid = (lo + hi) >> 1;
    try {
      decoder.decode(b.subarray(0, mid));
      lo = mid;
    } catch {
      hi = mid;
    }
  }
}

/** Parse one JSONL line into an item, or say exactly what is wrong with it. */
export function parseJsonlLine(line: string, lineNo: number): InputItem | InputProblem {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch (e) {
    return { line: lineNo, message: `malformed JSON (${(e as Error).message})` };
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return { line: lineNo, message: 'expected a JSON object {"id": ..., "text": ...}' };
  const o = obj as Record<string, unknown>;
  if (typeof o.text !== 'string') {
    const hint = Object.keys(o).length ? ` (fields: ${Object.keys(o).slice(0, 5).join(', ')})` : '';
    return { line: lineNo, message: `missing "text" string field${hint}` };
  }
  if (o.text.trim() === '') return { line: lineNo, message: 'empty text' };
  let id: string | number = lineNo;
  if (o.id !== undefined) {
    if (typeof o.id !== 'string' && typeof o.id !== 'number') return { line: lineNo, message: `"id" must be a string or a number, got ${o.id === null ? 'null' : typeof o.id}` };
    id = o.id;
  } else if (typeof o._id === 'string' || typeof o._id === 'number') id = o._id;
  return { id, text: o.text, line: lineNo };
}

/**
 * Read an embed input file: JSONL lines {"id", "text"} or plain text (one text per line,
 * id = line number). Bad lines become problems naming the line; the rest is kept.
 */
export function readInputFile(file: string): ParsedInput {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new TandemError('NOT_FOUND', `input file ${file} not found`, { cause: e });
  }
  if (!st.isFile()) throw new TandemError('INVALID_ARGUMENT', `${file} is not a file`);
  if (st.size > MAX_INPUT_BYTES) throw new TandemError('INVALID_INPUT', `${file} is ${st.size} bytes; split it below 2 GiB or index it with \`tandem index\``);
  const lines = splitLines(fs.readFileSync(file));
  const items: InputItem[] = [];
  const problems: InputProblem[] = [];
  let blankLines = 0;
  let format: 'jsonl' | 'text' | undefined;
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    let line: string;
    try {
      line = decoder.decode(raw);
    } catch {
      problems.push({ line: lineNo, message: `invalid UTF-8 at byte ${firstBadByte(raw)} of the line` });
      return;
    }
    if (i === 0 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    if (line.trim() === '') {
      blankLines++;
      return;
    }
    format ??= detectFormat(file, line);
    if (format === 'text') items.push({ id: lineNo, text: line, line: lineNo });
    else {
      const r = parseJsonlLine(line, lineNo);
      if ('text' in r) items.push(r);
      else problems.push(r);
    }
  });
  const fmt = format ?? detectFormat(file, undefined);
  if (fmt === 'jsonl' && blankLines > 0) blankLines = 0; // blank lines between JSON records are harmless
  return { format: fmt, items, problems, blankLines };
}

/** --text values: empty ones are problems too. */
export function itemsFromTexts(texts: string[]): ParsedInput {
  const items: InputItem[] = [];
  const problems: InputProblem[] = [];
  texts.forEach((t, i) => {
    if (t.trim() === '') problems.push({ line: i + 1, message: 'empty text' });
    else items.push({ id: i + 1, text: t, line: i + 1 });
  });
  return { format: 'text', items, problems, blankLines: 0 };
}
