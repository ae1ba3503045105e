import type { Command } from 'commander';
import { EmbedClient } from '../../inference/embed-client.js';
import { indexPath } from '../../library/indexer.js';
import type { Variant } from '../../models/catalog.js';
import { choice, positiveInt, type CliContext } from '../cli-context.js';
import { ProgressLine } from '../progress.js';
import { openLibrary } from './collections-command.js';

interface IndexFlags {
  collection: string;
  model: string;
  variant?: Variant;
  columns?: string[];
  maxTokens?: number;
  overlap?: number;
  json?: boolean;
  quiet?: boolean;
}

export const DEFAULT_INDEX_MODEL = 'minishlab/potion-base-2M';

export function registerIndex(program: Command, ctx: CliContext): void {
  program
    .command('index <path>')
    .description('add a folder or file to a collection (incremental; safe to re-run after a crash)')
    .requiredOption('--collection <name>', 'collection to add to (created on first use)')
    .option('--model <id>', 'embedding model', DEFAULT_INDEX_MODEL)
    .option('--variant <v>', 'fp32 | int8 | fp16 | static', choice(['fp32', 'int8', 'fp16', 'static']))
    .option('--columns <cols...>', 'CSV/TSV columns that form the text (names or 0-based indices)')
    .option('--max-tokens <n>', 'chunk size in tokens (default 256, capped by the model)', positiveInt)
    .option('--overlap <n>', 'chunk overlap in tokens (default 32)', positiveInt)
    .option('--json', 'print the summary as JSON')
    .option('--quiet', 'no progress on stderr')
    .action(async (root: string, flags: IndexFlags) => {
      const lib = openLibrary(ctx);
      const client = new EmbedClient(ctx.env);
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      const progress = new ProgressLine('indexing files', process.stderr, flags.quiet);
      try {
        const s = await indexPath(
          lib,
          client,
          {
            root,
            collection: flags.collection,
            model: flags.model,
            ...(flags.variant ? { variant: flags.variant } : {}),
            ...(flags.columns ? { columns: flags.columns } : {}),
            ...(flags.maxTokens ? { maxTokens: flags.maxTokens } : {}),
            ...(flags.overlap ? { overlapTokens: flags.overlap } : {}),
          },
          { signal: abort.signal, onProgress: (p) => p.phase === 'indexing' && progress.update(p.filesDone, p.filesTotal) },
          ctx.env,
        );
        progress.end();
        for (const e of s.errors) ctx.stderr.write(`tandem index: ${e.path}: ${e.message}\n`);
        if (flags.json) ctx.stdout.write(JSON.stringify(s, null, 2) + '\n');
        ctx.stderr.write(
          `tandem index: ${s.collection}: ${s.filesSeen} files (${s.filesIndexed} indexed, ${s.filesUnchanged} unchanged, ${s.filesSkipped} skipped, ${s.errors.length} errors), ` +
            `${s.documentsWritten} documents written, ${s.documentsDeleted} removed, ${s.chunksWritten} chunks, device ${s.device || 'n/a'}, ${(s.totalMs / 1000).toFixed(1)} s\n`,
        );
      } finally {
        process.off('SIGINT', onSigint);
        await client.close();
        lib.db.close();
      }
    });
}
