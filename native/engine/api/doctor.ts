/** app.doctor: what this machine offers for inference (versions, providers, GPU, WebGPU) and the models on disk. */
import { createRequire } from 'node:module';
import os from 'node:os';
import ort from 'onnxruntime-node';
import type { ApiDoctorReport } from '../common/contract/app.js';
import { acceleratorPrecheck, describeAdapter, physicalCores, planProviders, platformAccelerator, probeGpu } from '../inference/device.js';
import { probeWebGpu } from '../inference/webgpu-probe.js';
import type { ModelManager } from '../models/model-manager.js';
import { builtinModelsDir, modelSearchDirs, tandemHome } from '../node/paths.js';

export async function doctorReport(env: NodeJS.ProcessEnv, manager: ModelManager): Promise<ApiDoctorReport> {
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
    models: (await manager.list()).filter((m) => m.installed).map((m) => ({ id: m.id, dir: m.dir ?? '', variants: m.variants, builtin: m.builtin })),
  };
}
