import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { TandemError } from '../../../engine/common/errors.js';
import type { ApiInput } from '../../../engine/common/api-contract.js';
import { EmbedClient } from '../../../engine/inference/embed-client.js';
import { JobRunners } from '../../../engine/jobs/job-queue.js';
import { checkEvalModes, DEFAULT_EVAL_K, EVAL_KIND, EVAL_MODES, evalJobRunner, formatEvalTable, type EvalParams, type EvalReport } from '../../../engine/library/eval-job.js';
import { DEFAULT_RERANK_TOP, Searcher } from '../../../engine/library/searcher.js';
import { parseQrels, parseQueries } from '../../../engine/search/retrieval-metrics.js';
import { choice, positiveInt, type CliContext } from '../cli-context.js';
import { ProgressLine } from '../progress.js';
import { openLibrary } from './collections-command.js';
import { withEngine } from '../cli-engine.js';
import { callRunningJob, progressFromUpdates } from '../api-jobs.js';

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
      const progress = new ProgressLine('evaluating queries', process.stderr, flags.quiet);
      const input: ApiInput<'search.eval'> = {
        collection: flags.collection,
        queriesFile: path.resolve(flags.queries),
        qrelsFile: path.resolve(flags.qrels),
        modes,
        k: flags.k,
        ...(flags.fusion ? { fusion: flags.fusion } : {}),
        ...(flags.rerank ? { rerank: { model: flags.rerank, top: flags.rerankTop } } : {}),
      };
      const { jobId, ...r } = await withEngine(ctx, {}, (engine) => callRunningJob(engine, EVAL_KIND, () => engine.api['search.eval'](input), progressFromUpdates((done, total) => progress.update(done, total))));
      progress.end();
      if (flags.json) ctx.stdout.write(JSON.stringify({ job: jobId, ...r }, null, 2) + '\n');
      else ctx.stdout.write(formatEvalTable(r as EvalReport));
      const notes = [
        r.noRelevant ? `${r.noRelevant} qrels queries without a relevant document left out` : '',
        r.missingText ? `${r.missingText} qrels queries missing from ${flags.queries} scored 0` : '',
        r.unjudged ? `${r.unjudged} queries not in the qrels ignored` : '',
      ].filter(Boolean);
      const ms = Object.values(r.ms).reduce((a, b) => a + b, 0);
      ctx.stderr.write(`tandem eval: ${r.collection}, ${r.queries} queries, k ${r.k}${r.rerank ? `, rerank ${r.rerank}` : ''}${notes.length ? `; ${notes.join('; ')}` : ''}; ${ms} ms, job ${jobId}\n`);
    });
}
