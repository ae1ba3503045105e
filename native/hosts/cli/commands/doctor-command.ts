import { createRequire } from 'node:module';
import os from 'node:os';
import type { Command } from 'commander';
import ort from 'onnxruntime-node';
import { builtinModelsDir, modelSearchDirs, tandemHome } from '../../../engine/node/paths.js';
import { acceleratorPrecheck, describeAdapter, physicalCores, planProviders, platformAccelerator, probeGpu, type WebGpuProbeResult } from '../../../engine/inference/device.js';
import { probeWebGpu } from '../../../engine/inference/webgpu-probe.js';
import type { CliContext } from '../cli-context.js';
import { loadCatalog } from '../../../engine/models/catalog.js';
import { createModelManager } from '../../../engine/models/model-manager.js';

export interface DoctorReport {
  node: string;
  platform: string;
  cpus: { logical: number; physical: number };
  memoryGiB: number;
  onnxruntime: string;
  providers: Array<{ name: string; bundled: boolean }>;
  accelerator: { name: string | null; usable: boolean; reason: string | null };
  gpu: ReturnType<typeof probeGpu>;
  /** WebGPU adapters found by the probe (software ones included; auto uses only hardware ones). */
  webgpu: WebGpuProbeResult;
  /** What `--device auto` runs on here, and why the providers before it are skipped. */
  auto: { used: string; adapter: string | null; skipped: string[] };
  tandemHome: string;
  modelDirs: string[];
  /** Where the built-in models are (always searched last). */
  builtinDir: string;
  models: Array<{ id: string; dir: string; variants: string[]; builtin: boolean }>;
}

export async function doctorReport(env: NodeJS.ProcessEnv): Promise<DoctorReport> {
  const req = createRequire(import.meta.url);
  const ortVersion = (req('onnxruntime-node/package.json') as { version: string }).version;
  const acc = platformAccelerator();
  const why = acc ? acceleratorPrecheck(acc) : 'no accelerator is offered on this platform';
  const webgpu = await probeWebGpu({ software: true });
  const plan = planProviders('auto', { precheck: acceleratorPrecheck, webgpu: () => webgpu });
  const first = plan.providers[0]!;
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: { logical: os.availableParallelism(), physical: physicalCores() },
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    onnxruntime: ortVersion,
    providers: ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled })),
    accelerator: { name: acc ?? null, usable: !why, reason: why ?? null },
    gpu: probeGpu(),
    webgpu,
    auto: { used: first.provider, adapter: first.adapter ? describeAdapter(first.adapter) : null, skipped: plan.skipped },
    tandemHome: tandemHome(env),
    modelDirs: modelSearchDirs(env),
    builtinDir: builtinModelsDir(env),
    models: (await createModelManager({ env, catalog: loadCatalog() }).list()).filter((m) => m.installed).map((m) => ({ id: m.id, dir: m.dir ?? '', variants: m.variants, builtin: m.builtin })),
  };
}

export function registerDoctor(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('versions, execution providers, GPU/CUDA status and models on disk')
    .option('--json', 'machine-readable output')
    .action(async (flags: { json?: boolean }) => {
      const r = await doctorReport(ctx.env);
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
