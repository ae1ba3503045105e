import fs from 'node:fs';
import { TextDecoder } from 'node:util';
import { TandemError } from '../common/errors.js';
import type { ExtractedDoc, ExtractResult, LineError } from './extract-types.js';
import { invalidFile, normalizeNewlines, sha256 } from './source.js';

/** One line of a JSONL file: a document, or why the line was skipped. */
export type JsonlItem = { doc: ExtractedDoc; line: number } | { error: LineError };

/**
 * A BEIR-style corpus (`{"_id": ..., "title": ..., "text": ...}` per line; `id` is accepted for
 * `_id`), streamed line by line so corpora larger than memory's string limit work. Each line is a
 * document keyed by its id, text = title + "\n" + text (title also kept in `title`), sha256 of the
 * line's bytes. Malformed JSON, invalid UTF-8, a missing id or text and repeated ids are per-line
 * errors; blank lines are ignored.
 */
export async function* iterateJsonl(file: string, signal?: AbortSignal): AsyncGenerator<JsonlItem> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const ids = new Set<string>();
  let lineNo = 0;
  for await (const bytes of readLines(file)) {
    lineNo++;
    if (signal?.aborted) throw new TandemError('CANCELLED', 'extraction cancelled');
    const item = parseLine(bytes, lineNo, decoder, ids);
    if (item) yield item;
  }
}

/** All documents of a JSONL corpus (see iterateJsonl), with the per-line errors. */
export async function extractJsonl(file: string, signal?: AbortSignal): Promise<ExtractResult> {
  const docs: ExtractedDoc[] = [];
  const errors: LineError[] = [];
  for await (const item of iterateJsonl(file, signal)) {
    if ('doc' in item) docs.push(item.doc);
    else errors.push(item.error);
  }
  return { docs, errors, warnings: [] };
}

function parseLine(bytes: Buffer, line: number, decoder: TextDecoder, ids: Set<string>): JsonlItem | undefined {
  const fail = (message: string): JsonlItem => ({ error: { line, message } });
  let raw: string;
  try {
    raw = decoder.decode(bytes);
  } catch {
    return fail('invalid UTF-8');
  }
  if (line === 1 && raw.charCodeAt(0) === 0xfeff) raw = raw.slice(1);
  if (raw.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (e) {
    return fail(`malformed JSON (${(e as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('expected a JSON object {"_id": ..., "title": ..., "text": ...}');
  const o = value as Record<string, unknown>;
  const rawId = o._id ?? o.id;
  if (typeof rawId !== 'string' && typeof rawId !== 'number') return fail('missing "_id" (a string or a number)');
  const id = String(rawId);
  if (id.trim() === '') return fail('empty "_id"');
  if (o.text !== undefined && typeof o.text !== 'string') return fail('"text" must be a string');
  if (o.title !== undefined && o.title !== null && typeof o.title !== 'string') return fail('"title" must be a string');
  const body = normalizeNewlines(typeof o.text === 'string' ? o.text : '').trim();
  const title = typeof o.title === 'string' ? normalizeNewlines(o.title).trim() : '';
  if (body === '' && title === '') return fail(`document ${JSON.stringify(id)} has no text`);
  if (ids.has(id)) return fail(`duplicate _id ${JSON.stringify(id)}`);
  ids.add(id);
  const text = title && body ? `${title}\n${body}` : title || body;
  return { doc: { key: id, ...(title ? { title } : {}), text, sha256: sha256(bytes) }, line };
}

/** Lines of a file as raw bytes (without '\n' or a trailing '\r'); NOT_FOUND / INVALID_INPUT when unreadable. */
async function* readLines(file: string): AsyncGenerator<Buffer> {
  const stream = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  let pending: Buffer[] = []; // pieces of a line that started in an earlier chunk
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let from = 0;
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, from)) {
        const piece = chunk.subarray(from, nl);
        yield trimCr(pending.length > 0 ? Buffer.concat([...pending, piece]) : piece);
        pending = [];
        from = nl + 1;
      }
      if (from < chunk.length) pending.push(chunk.subarray(from));
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new TandemError('NOT_FOUND', `${file} does not exist`, { cause: e, data: { file } });
    if (e instanceof TandemError) throw e;
    throw invalidFile(file, `cannot read: ${(e as Error).message}`, e);
  } finally {
    stream.destroy();
  }
  if (pending.length > 0) yield trimCr(Buffer.concat(pending));
}

function trimCr(b: Buffer): Buffer {
  return b.length > 0 && b[b.length - 1] === 0x0d ? b.subarray(0, b.length - 1) : b;
}
