import path from 'node:path';
import type { Command } from 'commander';
import type { ApiInput } from '../../../engine/common/api-contract.js';
import { checkEvalModes, DEFAULT_EVAL_K, EVAL_KIND, EVAL_MODES, formatEvalTable, type EvalReport, DEFAULT_RERANK_TOP } from '../../../engine/index.js';
import { choice, positiveInt, type CliContext } from '../cli-context.js';
import { ProgressLine } from '../progress.js';
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

export function registerEval(program: Command, ctx: CliContext): void {
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
