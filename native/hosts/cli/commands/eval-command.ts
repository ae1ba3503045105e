import fs from 'node:fs';
import { requireSucceeded } from '../job-outcome.js';
import path from 'node:path';
import type { Command } from 'commander';
import { TandemError, type JsonValue } from '../../../engine/common/errors.js';
import { EmbedClient } from '../../../engine/inference/embed-client.js';
import { resolveReranker } from '../../../engine/inference/rerank-engine.js';
import { JobQueue, JobRunners } from '../../../engine/jobs/job-queue.js';
import { JobStore } from '../../../engine/jobs/job-store.js';
import { checkEvalModes, DEFAULT_EVAL_K, EVAL_KIND, EVAL_MODES, evalJobRunner, formatEvalTable, type EvalParams, type EvalReport } from '../../../engine/library/eval-job.js';
import { DEFAULT_RERANK_TOP, Searcher } from '../../../engine/library/searcher.js';
import { loadCatalog } from '../../../engine/models/catalog.js';
import { parseQrels, parseQueries } from '../../../engine/search/retrieval-metrics.js';
import { choice, positiveInt, type CliContext } from '../cli-context.js';
import { ProgressLine } from '../progress.js';
import { openLibrary } from './collections-command.js';

interface EvalFlags {
  collection: string;
  queries: string;
  qrels: string;
  mode?: string[];
  k: number;
  fusion?: 'score' | 'rrf';
  rerank?: string;
  rerankTop: number;
  json?: boolean;
  quiet?: boolean;
}

function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TandemError('NOT_FOUND', `${what} file ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
}

/** Read the job's query and qrels files (its params name them). */
function loadFiles(p: EvalParams) {
  if (!p.queriesFile || !p.qrelsFile) throw new TandemError('INVALID_ARGUMENT', 'this eval job was started from the API with its texts, which are not kept: run it again from the Search page');
  return { queries: parseQueries(readText(p.queriesFile, 'queries'), p.queriesFile), qrels: parseQrels(readText(p.qrelsFile, 'qrels'), p.qrelsFile) };
}

export function registerEval(program: Command, ctx: CliContext, runners: JobRunners = new JobRunners()): void {
  // `tandem jobs retry ID` of an eval job runs through this.
  runners.register(EVAL_KIND, async (run) => {
    const lib = openLibrary(ctx);
    const client = new EmbedClient(ctx.env);
    const searcher = new Searcher(lib, client, ctx.env);
    try {
      return await evalJobRunner(searcher, loadFiles)(run);
    } finally {
      searcher.close();
      await client.close();
      lib.db.close();
    }
  });
  program
    .command('eval')
    .description('measure retrieval on labelled queries: nDCG@10, Recall@100 and MRR@10 per search mode (BEIR files)')
    .requiredOption('--collection <name>', 'collection to search')
    .requiredOption('--queries <file>', 'JSONL lines {"_id", "text"} (BEIR queries)')
    .requiredOption('--qrels <file>', 'TSV "query-id corpus-id score" (BEIR qrels; header optional)')
    .option('--mode <modes...>', `modes to measure (default: ${EVAL_MODES.join(' ')})`)
    .option('--k <n>', 'documents retrieved per query', positiveInt, DEFAULT_EVAL_K)
    .option('--fusion <f>', 'hybrid and default modes: score (default) | rrf', choice(['score', 'rrf']))
    .option('--rerank <model>', 'rescore the top documents of every mode with a cross-encoder')
    .option('--rerank-top <n>', 'how many top documents the reranker rescores', positiveInt, DEFAULT_RERANK_TOP)
    .option('--json', 'print {"modes", "queries", "perQuery", ...} as JSON')
    .option('--quiet', 'no progress on stderr')
    .action(async (flags: EvalFlags) => {
      const modes = checkEvalModes(flags.mode ? flags.mode.flatMap((m) => m.split(',')).filter(Boolean) : [...EVAL_MODES]);
      const queriesFile = path.resolve(flags.queries);
      const qrelsFile = path.resolve(flags.qrels);
      const params: EvalParams = { collection: flags.collection, modes, k: flags.k, ...(flags.fusion ? { fusion: flags.fusion } : {}), queriesFile, qrelsFile, ...(flags.rerank ? { rerank: { model: flags.rerank, top: flags.rerankTop } } : {}) };
      // Bad files and a wrong reranker fail here, before a job is recorded.
      const texts = { queries: readText(queriesFile, 'queries'), qrels: readText(qrelsFile, 'qrels') };
      const input = { queries: parseQueries(texts.queries, flags.queries), qrels: parseQrels(texts.qrels, flags.qrels) };
      if (flags.rerank) resolveReranker(flags.rerank, ctx.env, loadCatalog());
      const lib = openLibrary(ctx);
      lib.requireCollection(flags.collection);
      const jobs = new JobStore(lib.db);
      const client = new EmbedClient(ctx.env);
      const searcher = new Searcher(lib, client, ctx.env);
      const progress = new ProgressLine('evaluating queries', process.stderr, flags.quiet);
      const queue = new JobQueue(jobs, { runners: new JobRunners() });
      let handleId: string | undefined;
      const onSigint = () => handleId && queue.cancel(handleId, 'interrupted by Ctrl-C');
      process.once('SIGINT', onSigint);
      try {
        const run = evalJobRunner(searcher, () => input);
        const handle = queue.submit({ kind: EVAL_KIND, backend: 'local', params: params as unknown as Record<string, JsonValue>, input: texts }, async (r) => {
          const wrapped = { ...r, progress: (d: number, t: number) => (r.progress(d, t), progress.update(d, t)) };
          return run(wrapped);
        });
        handleId = handle.id;
        const job = await handle.done;
        progress.end();
        requireSucceeded(job);
        const r = job.result as unknown as EvalReport;
        if (flags.json) ctx.stdout.write(JSON.stringify({ job: job.id, ...r }, null, 2) + '\n');
        else ctx.stdout.write(formatEvalTable(r));
        const notes = [
          r.noRelevant ? `${r.noRelevant} qrels queries without a relevant document left out` : '',
          r.missingText ? `${r.missingText} qrels queries missing from ${flags.queries} scored 0` : '',
          r.unjudged ? `${r.unjudged} queries not in the qrels ignored` : '',
        ].filter(Boolean);
        const ms = Object.values(r.ms).reduce((a, b) => a + b, 0);
        ctx.stderr.write(`tandem eval: ${r.collection}, ${r.queries} queries, k ${r.k}${r.rerank ? `, rerank ${r.rerank}` : ''}${notes.length ? `; ${notes.join('; ')}` : ''}; ${ms} ms, job ${job.id}\n`);
      } finally {
        process.off('SIGINT', onSigint);
        searcher.close();
        await client.close();
        lib.db.close();
      }
    });
}
