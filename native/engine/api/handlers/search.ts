/**
 * Search: `search.query` (the searcher's modes and fusion, filters, an optional cross-encoder
 * rerank stage), `search.batch` (many queries in one pass, the searcher's hits as they are: the
 * CLI's `tandem search`) and `search.eval` (BEIR queries and qrels through every mode, as an eval job in a
 * queue of its own).
 */
import fs from 'node:fs';
import path from 'node:path';
import { TandemError } from '../../common/errors.js';
import { parseJobResult } from '../../common/job-kinds.js';
import { resolveReranker, type RerankResult } from '../../inference/rerank-engine.js';
import { checkEvalModes, EVAL_KIND, evalJobRunner, type EvalParams } from '../../library/eval-job.js';
import type { ModeUsed } from '../../library/search-mode.js';
import { resolveMode, type Searcher, type SearchFilters } from '../../library/searcher.js';
import { JobRunners } from '../../jobs/job-queue.js';
import type { LiveJobs } from '../live-jobs.js';
import { parseQrels, parseQueries } from '../../search/retrieval-metrics.js';
import type { EngineContext, HandlersOf, MethodsOf } from '../engine-context.js';

/** A query or qrels file named by path (absolute, on the engine's machine), read whole. */
export function readEvalFile(file: string, what: 'queries' | 'qrels'): string {
  if (!path.isAbsolute(file)) throw new TandemError('INVALID_ARGUMENT', `search.eval: ${what} file "${file}" is not an absolute path`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TandemError('NOT_FOUND', `${what} file ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
}

/** The texts of an eval job started from files (its params name them), read again: `jobs.retry` and `jobs.resume` of an eval job. */
export function loadEvalFiles(p: Pick<EvalParams, 'queriesFile' | 'qrelsFile'>): { queries: ReturnType<typeof parseQueries>; qrels: ReturnType<typeof parseQrels> } {
  if (!p.queriesFile || !p.qrelsFile) throw new TandemError('INVALID_ARGUMENT', 'this eval job was started from the API with its texts, which are not kept: run it again from the Search page');
  return { queries: parseQueries(readEvalFile(p.queriesFile, 'queries'), p.queriesFile), qrels: parseQrels(readEvalFile(p.qrelsFile, 'qrels'), p.qrelsFile) };
}

/** The eval queue's runner: an eval job started from files reads them again (jobs.retry, jobs.resume). */
export function evalRunners(searcher: Searcher, jobs: LiveJobs): JobRunners {
  const runners = new JobRunners();
  runners.register(EVAL_KIND, jobs.observed(() => evalJobRunner(searcher, loadEvalFiles)));
  return runners;
}

function searchFilters(filters: { pathGlob?: string | undefined; fileTypes?: string[] | undefined; modifiedAfter?: string | undefined; modifiedBefore?: string | undefined } | undefined): SearchFilters {
  return {
    ...(filters?.pathGlob ? { pathGlob: filters.pathGlob } : {}),
    ...(filters?.fileTypes ? { fileTypes: filters.fileTypes } : {}),
    ...(filters?.modifiedAfter ? { modifiedAfter: new Date(filters.modifiedAfter) } : {}),
    ...(filters?.modifiedBefore ? { modifiedBefore: new Date(filters.modifiedBefore) } : {}),
  };
}

export function searchHandlers(ctx: EngineContext): HandlersOf<MethodsOf<'search.'>> {
  const { searcher, env, catalog, lib, evals, jobs } = ctx;
  return {
    'search.query': async ({ query, collection, mode, fusion, k, filters, rerank }) => {
      const f = searchFilters(filters);
      // A wrong reranker id fails here, before any search work.
      if (rerank) resolveReranker(rerank.model, env, catalog);
      let reranked: RerankResult | undefined;
      const t0 = performance.now();
      let used: ModeUsed | undefined;
      const hits = await searcher.search(collection, query, { k, mode, fusion, filters: f, onModeUsed: (m) => (used = m), ...(rerank ? { rerank: { model: rerank.model, top: rerank.top, onResult: (r) => (reranked = r) } } : {}) });
      const mu = used as ModeUsed | undefined;
      const rr = reranked as RerankResult | undefined;
      return {
        mode,
        modeUsed: mu?.used ?? mode,
        modeReason: mu?.reason ?? null,
        tookMs: Math.round((performance.now() - t0) * 10) / 10,
        hits: hits.map((h) => {
          return {
            docKey: h.docKey, path: h.path, fileType: h.fileType, title: h.title, score: h.score, scoreKind: h.scoreKind, page: h.page, start: h.start, end: h.end, snippet: h.snippet, highlights: h.highlights,
            ...(h.bm25 !== undefined ? { bm25: h.bm25 } : {}), ...(h.cosine !== undefined ? { cosine: h.cosine } : {}),
            ...(h.lines ? { lines: h.lines } : {}),
            ...(h.rerankScore !== undefined ? { rerankScore: h.rerankScore } : {}),
          };
        }),
        ...(rerank
          ? {
              rerank: rr
                ? { model: rr.model, variant: rr.variant, top: rerank.top, pairs: rr.count, device: rr.device.used, deviceReason: rr.device.fallbackReason ?? null, ms: Math.round(rr.timings.totalMs * 10) / 10 }
                : null,
            }
          : {}),
      };
    },

    'search.batch': async ({ collection, queries, mode, fusion, k, filters, precision, snippets, rerank }) => {
      // A wrong reranker id fails here, before any search work.
      if (rerank) resolveReranker(rerank.model, env, catalog);
      let reranked: RerankResult | undefined;
      let used: ModeUsed | undefined;
      const t0 = performance.now();
      const found = await searcher.searchMany(collection, queries, {
        k,
        mode,
        fusion,
        snippets,
        filters: searchFilters(filters),
        onModeUsed: (m) => (used = m),
        ...(precision ? { precision } : {}),
        ...(rerank
          ? { rerank: { model: rerank.model, top: rerank.top, activation: rerank.scores === 'sigmoid' ? 'sigmoid' : 'none', ...(rerank.device ? { device: rerank.device } : {}), onResult: (r) => (reranked = r) } }
          : {}),
      });
      const tookMs = performance.now() - t0;
      const mu = used as ModeUsed | undefined;
      const rr = reranked as RerankResult | undefined;
      // Hybrid: how it fused (score fusion's weights come from the collection model's published quality).
      const model = resolveMode(mode) === 'hybrid' ? searcher.collectionModel(collection) : null;
      const weights = model && fusion === 'score' ? searcher.weightsFor(model) : undefined;
      return {
        results: Object.fromEntries(found),
        tookMs,
        mode,
        modeUsed: mu?.used ?? mode,
        modeReason: mu?.reason ?? null,
        fusion: resolveMode(mode) === 'hybrid' ? { method: fusion, model, vectorWeight: weights?.vector ?? null, weightSource: weights?.source ?? null } : null,
        ...(rerank
          ? {
              rerank: rr
                ? { model: rr.model, variant: rr.variant, scores: rr.activation === 'sigmoid' ? ('sigmoid' as const) : ('raw' as const), top: rerank.top, pairs: rr.count, device: rr.device.used, deviceAdapter: rr.device.adapter ?? null, deviceReason: rr.device.fallbackReason ?? null, ms: rr.timings.totalMs }
                : null,
            }
          : {}),
      };
    },

    'search.eval': async ({ collection, queries, qrels, queriesFile, qrelsFile, modes, k, fusion, rerank }) => {
      // Bad texts or files, modes, a wrong reranker or collection fail here, before a job is recorded.
      // Files are read only for the CLI (its own user's paths); a UI host sends the texts.
      if ((queriesFile || qrelsFile) && ctx.deps.host !== 'cli') throw new TandemError('INVALID_ARGUMENT', 'search.eval: queriesFile and qrelsFile are for the command line; send the queries and qrels texts instead');
      const texts = { queries: queries ?? readEvalFile(queriesFile!, 'queries'), qrels: qrels ?? readEvalFile(qrelsFile!, 'qrels') };
      const input = { queries: parseQueries(texts.queries, queriesFile ?? 'queries'), qrels: parseQrels(texts.qrels, qrelsFile ?? 'qrels') };
      const params: EvalParams = { collection, modes: checkEvalModes(modes), k, ...(fusion ? { fusion } : {}), ...(queriesFile ? { queriesFile } : {}), ...(qrelsFile ? { qrelsFile } : {}), ...(rerank ? { rerank } : {}) };
      if (rerank) resolveReranker(rerank.model, env, catalog);
      lib.requireCollection(collection);
      const handle = evals.submit({ kind: EVAL_KIND, backend: 'local', params, input: texts }, jobs.observed(() => evalJobRunner(searcher, () => input)));
      jobs.track(handle);
      jobs.publish(handle.id);
      const job = await handle.done;
      if (job.status !== 'succeeded') {
        const err = job.error ?? { code: 'INTERNAL' as const, message: `the eval job ended ${job.status}` };
        throw new TandemError(job.status === 'cancelled' ? 'CANCELLED' : err.code, `${err.message} (job ${job.id})`);
      }
      return { jobId: job.id, ...parseJobResult(EVAL_KIND, job.result, job.id) };
    },
  };
}
