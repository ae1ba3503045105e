import type { Command } from 'commander';
import { TandemError } from '../../engine/common/errors.js';
import { loadCatalog, type Variant } from '../../models/catalog.js';
import { createModelManager, type ModelManager } from '../../models/model-manager.js';
import { ProgressLine } from '../progress.js';
import { choice, type CliContext } from '../cli-context.js';

function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

export function registerModels(program: Command, ctx: CliContext): void {
  const manager = (): ModelManager => createModelManager({ env: ctx.env, catalog: loadCatalog() });
  const models = program.command('models').description('list | pull | import | verify models');

  models
    .command('list')
    .description('catalog models and models found on disk')
    .option('--json', 'machine-readable output')
    .action(async (flags: { json?: boolean }) => {
      const rows = await manager().list();
      if (flags.json) {
        ctx.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        return;
      }
      const lines = rows.map((m) => {
        const where = m.installed ? `installed [${m.variants.join(', ')}] ${mib(m.sizeOnDisk)} ${m.dir}` : 'not installed';
        const meta = [m.task ?? '?', m.dims ? `${m.dims}-d` : '', m.license ?? '', m.inCatalog ? 'catalog' : 'local'].filter(Boolean).join(', ');
        return `${m.id.padEnd(40)} ${meta.padEnd(36)} ${where}${m.problem ? ` (problem: ${m.problem})` : ''}`;
      });
      ctx.stdout.write(lines.join('\n') + '\n');
    });

  models
    .command('pull <id>')
    .description('download a catalog model (resumable, sha256-verified, atomic)')
    .option('--variant <v>', 'fp32 | int8 | fp16 | static (default: the catalog default)', choice(['fp32', 'int8', 'fp16', 'static']))
    .option('--json', 'machine-readable output')
    .action(async (id: string, flags: { variant?: Variant; json?: boolean }) => {
      const progress = new ProgressLine(`pulling ${id}`, process.stderr, flags.json);
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      try {
        const r = await manager().pull(id, { ...(flags.variant ? { variant: flags.variant } : {}), signal: abort.signal, onProgress: (p) => progress.update(p.bytes, p.total ?? p.bytes) });
        progress.end();
        if (flags.json) ctx.stdout.write(JSON.stringify(r, null, 2) + '\n');
        else {
          ctx.stdout.write(`${r.id} (${r.variant}) -> ${r.dir}: ${r.downloaded.length} downloaded, ${r.reused.length} already present\n`);
          if (r.unpinned.length) ctx.stderr.write(`warning: the catalog pins no sha256 for ${r.unpinned.join(', ')}; the hashes seen were recorded for \`tandem models verify\`\n`);
        }
      } catch (e) {
        if (abort.signal.aborted) throw new TandemError('CANCELLED', 'download cancelled; run the same command again to resume');
        throw e;
      } finally {
        process.off('SIGINT', onSigint);
      }
    });

  models
    .command('import <folder>')
    .description('copy a local model folder into the cache (air-gapped machines)')
    .requiredOption('--id <id>', 'the model id to file it under, e.g. Xenova/all-MiniLM-L6-v2')
    .option('--force', 'replace an installed copy of the same id')
    .option('--json', 'machine-readable output')
    .action(async (folder: string, flags: { id: string; force?: boolean; json?: boolean }) => {
      const r = await manager().import(folder, { id: flags.id, ...(flags.force ? { force: true } : {}) });
      if (flags.json) ctx.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else {
        ctx.stdout.write(`imported ${r.id} -> ${r.dir} (${r.files.length} files)\n`);
        if (r.unpinned.length) ctx.stderr.write(`note: ${r.unpinned.length} file(s) have no pinned sha256; their hashes were recorded for \`tandem models verify\`\n`);
      }
    });

  models
    .command('verify <id>')
    .description('recompute sha256 of every file against the catalog (or the recorded manifest)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, flags: { json?: boolean }) => {
      const r = await manager().verify(id);
      if (flags.json) ctx.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else {
        for (const f of r.files) ctx.stdout.write(`${f.status.padEnd(9)} ${f.path}${f.status === 'mismatch' ? ` (expected ${f.expected}, got ${f.actual})` : ''}\n`);
        ctx.stdout.write(`${r.id}: ${r.ok ? 'ok' : 'FAILED'} (${r.dir})\n`);
      }
      if (!r.ok) ctx.setExitCode(1);
    });
}
