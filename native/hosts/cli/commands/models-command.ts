import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { TandemError } from '../../../engine/common/errors.js';
import { formatShape, type OnnxModelInfo, type OnnxValueInfo, type Variant } from '../../../engine/index.js';
import { awaitJob, cancelOnCtrlC } from '../api-jobs.js';
import { ProgressLine } from '../progress.js';
import { choice, type CliContext } from '../cli-context.js';
import { withEngine } from '../cli-engine.js';

function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** Human-readable `tandem models inspect` output. */
export function formatInspect(i: OnnxModelInfo): string {
  const w = Math.max(8, ...[...i.inputs, ...i.outputs].map((v) => v.name.length));
  const rows = (list: OnnxValueInfo[]): string[] => {
    return list.map((v) => `  ${v.name.padEnd(w)}  ${v.type.padEnd(8)}  ${v.isTensor ? formatShape(v.shape) : ''}`.trimEnd());
  };
  const ext = i.externalData.length ? `, plus external data ${i.externalData.map((e) => `${e.file} (${e.size === null ? 'missing' : mib(e.size)})`).join(', ')}` : '';
  const ops = i.opTypes.slice(0, 8).map((o) => `${o.op} ${o.count}`).join(', ');
  const p = i.initializers.parameters;
  const params = p >= 1e9 ? `${(p / 1e9).toFixed(2)}B` : p >= 1e6 ? `${(p / 1e6).toFixed(2)}M` : p >= 1e3 ? `${(p / 1e3).toFixed(1)}K` : String(p);
  return [
    `${i.file}`,
    `  size      ${mib(i.fileSize)} (${i.fileSize.toLocaleString('en-US')} bytes)${ext}`,
    `  producer  ${[i.producerName || '(none)', i.producerVersion].filter(Boolean).join(' ')}; IR version ${i.irVersion}; opset ${i.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}`,
    `  graph     ${i.graphName || '(unnamed)'}: ${i.nodes} nodes (${ops || 'none'}${i.opTypes.length > 8 ? ', ...' : ''}), ${i.initializers.count} initializers, ${params} parameters`,
    ...(i.docString ? [`  doc       ${i.docString.split('\n')[0]}`] : []),
    ...Object.entries(i.metadata).map(([k, v]) => `  meta      ${k} = ${v}`),
    'inputs:',
    ...rows(i.inputs),
    ...(i.overridableInitializers.length ? [`  (${i.overridableInitializers.length} more graph inputs are initializers with defaults)`] : []),
    'outputs:',
    ...rows(i.outputs),
  ].join('\n');
}

export function registerModels(program: Command, ctx: CliContext): void {
  const models = program.command('models').description('list | pull | import | verify | inspect models');

  models
    .command('inspect <path>')
    .description('an ONNX file\'s inputs and outputs (names, types, shapes with symbolic dims), opset, producer and size')
    .option('--json', 'machine-readable output')
    .action(async (spec: string, flags: { json?: boolean }) => {
      // A path is made absolute here (the engine does not share our working directory); else it is a model id.
      const model = fs.existsSync(spec) ? path.resolve(spec) : spec;
      const info = await withEngine(ctx, { readOnly: true }, (engine) => engine.api['models.inspect']({ model }));
      ctx.stdout.write((flags.json ? JSON.stringify(info, null, 2) : formatInspect(info)) + '\n');
    });

  models
    .command('list')
    .description('catalog models and models found on disk')
    .option('--json', 'machine-readable output')
    .action(async (flags: { json?: boolean }) => {
      const { models: rows } = await withEngine(ctx, { readOnly: true }, (engine) => engine.api['models.list']({}));
      if (flags.json) {
        ctx.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        return;
      }
      const lines = rows.map((m) => {
        const where = m.installed ? `installed [${m.variants.join(', ')}] ${mib(m.sizeOnDisk)} ${m.dir}` : 'not installed';
        const meta = [m.task ?? '?', m.dims ? `${m.dims}-d` : '', m.license ?? '', m.builtin ? 'built in' : m.inCatalog ? 'catalog' : 'local'].filter(Boolean).join(', ');
        return `${m.id.padEnd(40)} ${meta.padEnd(36)} ${where}${m.problem ? ` (problem: ${m.problem})` : ''}`;
      });
      ctx.stdout.write(lines.join('\n') + '\n');
    });

  models
    .command('pull <id>')
    .description('download a catalog model (resumable, sha256-verified, atomic)')
    .option('--variant <v>', 'fp32 | int8 | fp16 | static (default: the catalog default)', choice(['fp32', 'int8', 'fp16', 'static']))
    .option('--allow-unpinned', 'pull even if the catalog pins no sha256 for some files or names a branch (trust on first use)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, flags: { variant?: Variant; json?: boolean; allowUnpinned?: boolean }) => {
      // A model-pull job in the engine's download queue; its progress comes as the UI's job.updated events.
      await withEngine(ctx, {}, async (engine) => {
        const progress = new ProgressLine(`pulling ${id}`, process.stderr, flags.json);
        const { jobId } = await engine.api['models.pull']({ id, ...(flags.variant ? { variant: flags.variant } : {}), ...(flags.allowUnpinned ? { allowUnpinned: true } : {}) });
        // Ctrl-C cancels it with the engine's own reason ('cancelled from the command line').
        const ctrlC = cancelOnCtrlC(engine, null);
        ctrlC.watch(jobId);
        let job;
        try {
          job = await awaitJob(engine, jobId, (u) => u.job.progress.total !== null && u.job.status === 'running' && progress.update(u.job.progress.done, u.job.progress.total));
        } finally {
          ctrlC.off();
          progress.end();
        }
        if (ctrlC.interrupted || job.status === 'cancelled') throw new TandemError('CANCELLED', 'download cancelled; run the same command again to resume');
        if (job.status !== 'succeeded') throw new TandemError(job.error?.code ?? 'INTERNAL', job.error?.message ?? `model pull ended ${job.status}`);
        const r = job.result as { id: string; dir: string; variant: string; downloaded: string[]; reused: string[]; unpinned: string[] };
        if (flags.json) ctx.stdout.write(JSON.stringify(r, null, 2) + '\n');
        else {
          ctx.stdout.write(`${r.id} (${r.variant}) -> ${r.dir}: ${r.downloaded.length} downloaded, ${r.reused.length} already present\n`);
          if (r.unpinned.length) ctx.stderr.write(`warning: the catalog pins no sha256 for ${r.unpinned.join(', ')}; the hashes seen were recorded for \`tandem models verify\`\n`);
        }
      });
    });

  models
    .command('import <folder>')
    .description('copy a local model folder into the cache (air-gapped machines)')
    .requiredOption('--id <id>', 'the model id to file it under, e.g. Xenova/all-MiniLM-L6-v2')
    .option('--force', 'replace an installed copy of the same id')
    .option('--json', 'machine-readable output')
    .action(async (folder: string, flags: { id: string; force?: boolean; json?: boolean }) => {
      const r = await withEngine(ctx, { readOnly: true }, (engine) => engine.api['models.import']({ folder: path.resolve(folder), id: flags.id, ...(flags.force ? { force: true } : {}) }));
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
      const r = await withEngine(ctx, { readOnly: true }, (engine) => engine.api['models.verify']({ id }));
      if (flags.json) ctx.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else {
        const note = (f: (typeof r.files)[number]): string => {
          if (f.status === 'mismatch') return ` (expected ${f.expected}, got ${f.actual})`;
          if (f.status === 'unpinned') return f.expected ? ' (no sha256 in the catalog: matches the hash recorded when it was installed, trust on first use)' : ' (no sha256 in the catalog and none recorded: nothing to check it against)';
          return '';
        };
        for (const f of r.files) ctx.stdout.write(`${f.status.padEnd(9)} ${f.path}${note(f)}\n`);
        const unpinned = r.files.filter((f) => f.status === 'unpinned').length;
        ctx.stdout.write(`${r.id}: ${r.ok ? 'ok' : 'FAILED'}${unpinned ? `, ${unpinned} unpinned` : ''} (${r.dir})\n`);
      }
      if (!r.ok) ctx.setExitCode(1);
    });
}
