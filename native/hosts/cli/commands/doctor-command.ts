import type { Command } from 'commander';
import { describeAdapter } from '../../../engine/common/device-text.js';
import type { CliContext } from '../cli-context.js';
import { withEngine } from '../cli-engine.js';

export function registerDoctor(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('versions, execution providers, GPU/CUDA status and models on disk')
    .option('--json', 'machine-readable output')
    .action(async (flags: { json?: boolean }) => {
      const r = await withEngine(ctx, { readOnly: true }, (engine) => engine.api['app.doctor']({}));
      if (flags.json) {
        ctx.stdout.write(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      const lines = [
        `node            ${r.node} (${r.platform})`,
        `cpu             ${r.cpus.physical} physical / ${r.cpus.logical} logical cores, ${r.memoryGiB} GiB`,
        `onnxruntime     onnxruntime-node ${r.onnxruntime}; providers: ${r.providers.map((p) => p.name + (p.bundled ? '' : ' (needs extra libraries)')).join(', ')}`,
        `accelerator     ${r.accelerator.name ?? 'none'}: ${r.accelerator.usable ? 'usable' : `not usable: ${r.accelerator.reason}`}`,
        `gpu             nvidia device: ${r.gpu.nvidiaDevice ? 'yes' : 'no'}; ORT CUDA provider: ${r.gpu.cudaProviderLib ? 'installed' : 'not installed'}; CUDA libraries: ${r.gpu.cudaRuntimeLibs.length ? r.gpu.cudaRuntimeLibs.join(', ') : 'none found'}`,
        ...r.gpu.notes.map((n) => `                - ${n}`),
        `webgpu          ${r.webgpu.adapters.length ? r.webgpu.adapters.map((a) => describeAdapter(a)).join(', ') : 'no adapter'}${r.webgpu.reason ? ` (${r.webgpu.reason})` : ''}; probe ${r.webgpu.ms ?? 0} ms`,
        `embeddings run  ${r.auto.used}${r.auto.adapter ? `: ${r.auto.adapter}` : ''} (auto)`,
        ...r.auto.skipped.map((n) => `                - ${n}`),
        `TANDEM_HOME     ${r.tandemHome}`,
        `model dirs      ${r.modelDirs.join(', ')}`,
        `models on disk  ${r.models.length ? '' : 'none (tandem models pull ID, or tandem models import FOLDER)'}`,
        ...r.models.map((m) => `                ${m.id} [${m.variants.join(', ')}]${m.builtin ? ' (built in: works offline)' : ''} ${m.dir}`),
      ];
      ctx.stdout.write(lines.join('\n') + '\n');
    });
}
