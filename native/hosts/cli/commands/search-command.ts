import fs from 'node:fs';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { TandemError } from '../../../engine/common/errors.js';
import { DEFAULT_RERANK_TOP, DEFAULT_SEARCH_MODE, SEARCH_MODES, resolveMode, type DocumentHit, type SearchMode, type SearchQuery, FUSION_METHODS, type FusionMethod, trecLines, bracketed } from '../../../engine/index.js';
import { DEVICE_REQUESTS, type DeviceRequest, describeDevice } from '../../../engine/common/device-text.js';
import type { ApiInput, ApiOutput } from '../../../engine/common/api-contract.js';
import { choice, positiveInt, type CliContext } from '../cli-context.js';
import { parseJsonlLine } from '../input.js';
import { withEngine } from '../cli-engine.js';

type BatchHit = ApiOutput<'search.batch'>['results'][string][number];

interface SearchFlags {
  collection: string;
  k: number;
  mode: SearchMode;
  fusion: FusionMethod;
  queries?: string;
  format?: 'text' | 'json' | 'trec';
  json?: boolean;
  path?: string;
  type?: string[];
  modifiedAfter?: Date;
  modifiedBefore?: Date;
  precision?: 'float32' | 'int8';
  rerank?: string;
  rerankTop: number;
  rerankScores: 'raw' | 'sigmoid';
  rerankDevice?: DeviceRequest;
}

function date(v: string): Date {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError(`expected a date like 2026-01-31, got "${v}"`);
  return d;
}

/** Query file: JSONL lines {"_id", "text"} (BEIR queries); bad lines are errors naming the line. */
function readQueries(file: string): SearchQuery[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TandemError('NOT_FOUND', `queries file ${file} not found`, { cause: e });
  }
  const out: SearchQuery[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const r = parseJsonlLine(line, i + 1);
    if (!('text' in r)) throw new TandemError('INVALID_INPUT', `${file} line ${r.line}: ${r.message}`);
    out.push({ id: String(r.id), text: r.text });
  });
  return out;
}

/** A hit's score with what it is: `bm25 28.8`, `cosine 0.553`, `fused 0.831` (0-1), `rrf 0.0162`. */
export function formatScore(h: Pick<DocumentHit, 'score' | 'scoreKind'>): string {
  const digits = h.scoreKind === 'bm25' ? 1 : h.scoreKind === 'rrf' ? 4 : 3;
  return `${h.scoreKind} ${h.score.toFixed(digits)}`;
}

function describeMode(a: Pick<ApiOutput<'search.batch'>, 'mode' | 'fusion'>): string {
  const mode = resolveMode(a.mode);
  const name = a.mode === 'default' ? `default (${mode})` : mode;
  const f = a.fusion;
  if (mode !== 'hybrid' || !f) return name;
  if (f.method === 'rrf') return `${name}, reciprocal rank fusion`;
  if (!f.model || f.vectorWeight === null) return `${name}, score fusion`;
  const why = f.weightSource === 'published' ? `from ${f.model}'s published retrieval nDCG@10 vs BM25's` : `${f.model} has no published retrieval score`;
  return `${name}, score fusion: vector weight ${f.vectorWeight.toFixed(2)} (${why})`;
}

export function registerSearch(program: Command, ctx: CliContext): void {
  program
    .command('search [query]')
    .description('search a collection (vector, lexical or hybrid); batch mode with --queries')
    .requiredOption('--collection <name>', 'collection to search')
    .option('--k <n>', 'results per query (documents)', positiveInt, 10)
    .option('--mode <m>', 'default | hybrid | lexical | vector (default: hybrid with score fusion, see README)', choice(SEARCH_MODES), DEFAULT_SEARCH_MODE)
    .option('--fusion <f>', 'hybrid: score (normalised BM25 + cosine, weighted by the model\'s published quality) | rrf (reciprocal rank fusion)', choice(FUSION_METHODS), 'score')
    .option('--queries <file>', 'JSONL lines {"_id", "text"}: run every query')
    .option('--format <f>', 'text | json | trec (trec: "QID Q0 DOCID RANK SCORE tandem")', choice(['text', 'json', 'trec']))
    .option('--json', 'same as --format json')
    .option('--path <glob>', 'only documents whose path matches (absolute, or relative to the collection root)')
    .option('--type <types...>', 'only these file types (txt md html pdf docx csv tsv jsonl code)')
    .option('--modified-after <date>', 'only files modified on or after this date', date)
    .option('--modified-before <date>', 'only files modified before this date', date)
    .option('--precision <p>', 'vector scan: float32 | int8 (int8 rescored in float32)', choice(['float32', 'int8']))
    .option('--rerank <model>', 'rescore the top documents with a cross-encoder (e.g. Xenova/ms-marco-MiniLM-L-6-v2)')
    .option('--rerank-top <n>', 'how many top documents the reranker rescores', positiveInt, DEFAULT_RERANK_TOP)
    .option('--rerank-scores <s>', 'raw (logits) | sigmoid', choice(['raw', 'sigmoid']), 'raw')
    .option('--rerank-device <d>', `${DEVICE_REQUESTS.join(' | ')} for the reranker`, choice(DEVICE_REQUESTS))
    .action(async (query: string | undefined, flags: SearchFlags) => {
      if (!!query === !!flags.queries) throw new TandemError('INVALID_ARGUMENT', 'give either a QUERY or --queries FILE');
      const format = flags.format ?? (flags.json ? 'json' : flags.queries ? 'trec' : 'text');
      const queries = flags.queries ? readQueries(flags.queries) : [{ id: 'q1', text: query! }];
      const filters = {
        ...(flags.path ? { pathGlob: flags.path } : {}),
        ...(flags.type ? { fileTypes: flags.type.flatMap((t) => t.split(',')).filter(Boolean) } : {}),
        ...(flags.modifiedAfter ? { modifiedAfter: flags.modifiedAfter.toISOString() } : {}),
        ...(flags.modifiedBefore ? { modifiedBefore: flags.modifiedBefore.toISOString() } : {}),
      };
      const input: ApiInput<'search.batch'> = {
        collection: flags.collection,
        queries,
        k: flags.k,
        mode: flags.mode,
        fusion: flags.fusion,
        snippets: format !== 'trec',
        ...(Object.keys(filters).length ? { filters } : {}),
        ...(flags.precision ? { precision: flags.precision } : {}),
        ...(flags.rerank ? { rerank: { model: flags.rerank, top: flags.rerankTop, scores: flags.rerankScores, ...(flags.rerankDevice ? { device: flags.rerankDevice } : {}) } } : {}),
      };
      const answer = await withEngine(ctx, { readOnly: true }, (engine) => engine.api['search.batch'](input));
      printSearch(ctx, flags, queries, format, answer);
    });
}

/** What `tandem search` prints of `search.batch`'s answer: TREC lines, JSON hits or text on stdout; a summary line on stderr. */
export function printSearch(ctx: CliContext, flags: Pick<SearchFlags, 'queries' | 'k' | 'rerank' | 'rerankTop'>, queries: SearchQuery[], format: 'text' | 'json' | 'trec', answer: ApiOutput<'search.batch'>): void {
  // A collection without live vectors answered lexically: JSON hits say so (modeUsed, modeReason).
  const reason = answer.modeReason;
  const results: Record<string, Array<BatchHit & { modeUsed?: string; modeReason?: string }>> = reason
    ? Object.fromEntries(Object.entries(answer.results).map(([id, hits]) => [id, hits.map((h) => ({ ...h, modeUsed: answer.modeUsed, modeReason: reason }))]))
    : answer.results;
  if (format === 'trec') {
    const lines = queries.flatMap((q) => trecLines(q.id, (results[q.id] ?? []).map((h) => ({ docId: h.docKey.replace(/\s/g, '_'), score: h.rerankScore ?? h.score })), { k: flags.k }));
    ctx.stdout.write(lines.length ? lines.join('\n') + '\n' : '');
  } else if (format === 'json') {
    ctx.stdout.write(JSON.stringify(flags.queries ? results : results['q1'], null, 2) + '\n');
  } else {
    const hits = results['q1'] ?? [];
    if (hits.length === 0) ctx.stdout.write('no results\n');
    hits.forEach((h, i) => {
      const where = h.page ? `${h.path} (page ${h.page})` : h.lines ? `${h.path} lines ${h.lines.start}-${h.lines.end}` : `${h.path} [${h.start}-${h.end}]`;
      const scores = h.rerankScore !== undefined ? `rerank ${h.rerankScore.toFixed(2)}  (first stage ${formatScore(h)})` : formatScore(h);
      ctx.stdout.write(`${String(i + 1).padStart(2)}. ${scores}  ${where}${h.docKey !== h.path && !h.path.endsWith(h.docKey) ? `  #${h.docKey}` : ''}\n    ${bracketed({ text: h.snippet, highlights: h.highlights }).replace(/\s+/g, ' ')}\n`);
    });
  }
  const rr = answer.rerank;
  const rerankNote = rr
    ? `, rerank ${rr.model} (${rr.variant}, ${rr.scores} scores) over the top ${flags.rerankTop}: ${rr.pairs} pairs, device ${describeDevice({ used: rr.device, fallbackReason: rr.deviceReason ?? undefined, adapter: rr.deviceAdapter ?? undefined })}, ${rr.ms.toFixed(0)} ms`
    : flags.rerank
      ? ', nothing to rerank'
      : '';
  ctx.stderr.write(`tandem search: ${queries.length} ${queries.length === 1 ? 'query' : 'queries'}, mode ${reason ? `${answer.modeUsed} (${reason})` : describeMode(answer)}${rerankNote}, ${answer.tookMs.toFixed(0)} ms\n`);
}
