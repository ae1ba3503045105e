/**
 * TREC run files (trec_eval's input): one line per retrieved document,
 *
 *   QID Q0 DOCID RANK SCORE TAG
 *
 * Search returns chunks; a document's score is its best chunk's score (chunks collapsed by max),
 * documents are ranked by that score (ties: DOCID ascending) and numbered 1..k. Note trec_eval
 * orders by SCORE, not RANK, breaking ties by DOCID itself; scores are printed with enough digits
 * (up to 9 significant) that distinct scores stay distinct.
 */
import { TandemError } from '../common/errors.js';

export interface ChunkHit {
  /** The document's stable key (documents.doc_key, e.g. the BEIR _id). */
  docId: string;
  score: number;
}

/** Collapse chunk hits to documents by max score; best first, ties by docId. */
export function collapseToDocuments(hits: readonly ChunkHit[]): ChunkHit[] {
  const best = new Map<string, number>();
  for (const h of hits) {
    if (!Number.isFinite(h.score)) throw new TandemError('INVALID_ARGUMENT', `score of ${h.docId} is not finite`);
    const s = best.get(h.docId);
    if (s === undefined || h.score > s) best.set(h.docId, h.score);
  }
  return [...best]
    .map(([docId, score]) => ({ docId, score }))
    .sort((a, b) => b.score - a.score || (a.docId < b.docId ? -1 : a.docId > b.docId ? 1 : 0));
}

function checkField(what: string, v: string): void {
  if (v.length === 0 || /\s/.test(v)) throw new TandemError('INVALID_ARGUMENT', `${what} ${JSON.stringify(v)} must be non-empty without whitespace (TREC fields are space-separated)`);
}

function formatScore(s: number): string {
  return Number(s.toPrecision(9)).toString();
}

/** The run lines for one query (no trailing newline). */
export function trecLines(qid: string, hits: readonly ChunkHit[], opts: { k?: number; tag?: string } = {}): string[] {
  const tag = opts.tag ?? 'tandem';
  const k = opts.k ?? 1000;
  if (!Number.isInteger(k) || k < 1) throw new TandemError('INVALID_ARGUMENT', `k must be a positive integer, got ${k}`);
  checkField('query id', qid);
  checkField('run tag', tag);
  const docs = collapseToDocuments(hits).slice(0, k);
  return docs.map((d, i) => {
    checkField('document id', d.docId);
    return `${qid} Q0 ${d.docId} ${i + 1} ${formatScore(d.score)} ${tag}`;
  });
}

/** A whole run file: queries in the order given, each line ending in a newline. */
export function formatTrecRun(runs: ReadonlyArray<{ qid: string; hits: readonly ChunkHit[] }>, opts: { k?: number; tag?: string } = {}): string {
  return runs.flatMap((r) => trecLines(r.qid, r.hits, opts).map((l) => `${l}\n`)).join('');
}
