import type { Worker } from 'node:worker_threads';
import { TandemError } from '../common/errors.js';
import { createClient, type RpcClient } from '../common/rpc.js';
import type { DeviceReport } from './device.js';
import { resolveProviders } from './webgpu-probe.js';
import type { Embedder } from './embedder.js';
import type { OnnxEmbedderOptions } from './onnx-embedder.js';
import type { CrossEncoderOptions } from './cross-encoder.js';
import type { RunnerApi, RunnerModel } from './onnx-runner.js';
import type { EncodedPair } from './tokenizer.js';
import { spawnWorker } from '../node/spawn-worker.js';
import { workerPort } from '../node/worker-client.js';
import { SHUTDOWN_METHOD } from '../node/worker-serve.js';

interface Runner {
  worker: Worker;
  client: RpcClient<RunnerApi>;
}

type Loaded = Awaited<ReturnType<RunnerApi['load']>>;

interface Waiting {
  resolve: (v: Float32Array) => void;
  reject: (e: Error) => void;
}

type Job = { type: 'embed'; batch: number[][] } | { type: 'score'; pairs: EncodedPair[] };

/**
 * N onnx-runner threads holding the same model. On CPU: one session per physical core, one
 * intra-op thread each, batches run in parallel (measured faster than one session using every
 * core: int8 MiniLM on 2 cores, bench:embed, 3,193 vs 1,962 sentences/s). On an accelerator: a
 * single runner owns the device.
 */
export class OnnxRunnerPool {
  private readonly idle: Runner[] = [];
  private readonly queue: Array<{ job: Job; w: Waiting }> = [];
  /** Batches sent to a runner and not answered yet. */
  private readonly pending = new Set<Waiting>();

  private constructor(
    private readonly runners: Runner[],
    /** Embedding width (1 for a cross-encoder). */
    readonly dims: number,
    readonly device: DeviceReport,
    readonly loadMs: number,
  ) {
    for (const r of runners) {
      this.idle.push(r);
      r.worker.on('error', (e) => this.failAll(new TandemError('INTERNAL', `inference runner crashed: ${e.message}`, { cause: e })));
    }
  }

  /** Batches that can run at once. */
  get concurrency(): number {
    return this.runners.length;
  }

  private static async startRunner(model: RunnerModel): Promise<{ runner: Runner; reply: Loaded }> {
    const worker = spawnWorker('onnx-runner', import.meta.url);
    const client = createClient<RunnerApi>(workerPort(worker));
    let reply: Loaded;
    try {
      reply = await new Promise<Loaded>((resolve, reject) => {
        worker.once('error', reject);
        client.call('load', model).then(resolve, reject);
      });
    } catch (e) {
      client.close();
      await worker.terminate();
      throw e;
    }
    worker.unref();
    return { runner: { worker, client }, reply };
  }

  /** `model.opts.threads`: CPU threads in all (default physical cores); each CPU runner uses one. */
  static async load(model: RunnerModel): Promise<OnnxRunnerPool> {
    const t0 = performance.now();
    const { device, allowFallback } = model.opts;
    const threads = model.opts.threads ?? 1;
    // The WebGPU adapter probe runs once here (a child process) and its answer goes to every runner.
    const plan = await resolveProviders(device, model.opts.webgpu);
    const withOpts = (o: Partial<RunnerModel['opts']>): RunnerModel => ({ ...model, opts: { ...model.opts, webgpu: plan.webgpu, ...o } }) as RunnerModel;
    const one = withOpts({ threads: device === 'cpu' || threads > 1 ? 1 : threads });
    // When no accelerator can load (checked without loading anything) and a CPU fallback is
    // allowed, every runner is a CPU runner: start them all at once instead of one after another.
    // On a GPU (CUDA, WebGPU...) one runner owns the device: no per-core pool.
    const cpuCertain = threads > 1 && (device === 'cpu' || (allowFallback && plan.providers.every((p) => p.provider === 'cpu')));
    const started = cpuCertain ? Array.from({ length: threads }, () => OnnxRunnerPool.startRunner(one)) : [OnnxRunnerPool.startRunner(one)];
    const settled = await Promise.allSettled(started);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.all(settled.map((r) => (r.status === 'fulfilled' ? OnnxRunnerPool.stopRunner(r.value.runner) : undefined)));
      throw failed.reason;
    }
    const ok = settled.map((r) => (r as PromiseFulfilledResult<Awaited<(typeof started)[number]>>).value);
    const first = ok[0]!;
    const runners = ok.map((r) => r.runner);
    if (!cpuCertain && first.reply.device.used === 'cpu' && threads > 1) {
      const rest = await Promise.all(Array.from({ length: threads - 1 }, () => OnnxRunnerPool.startRunner(withOpts({ device: 'cpu', threads: 1 }))));
      runners.push(...rest.map((r) => r.runner));
    }
    const report: DeviceReport = { ...first.reply.device, threads: first.reply.device.used === 'cpu' ? runners.length : first.reply.device.threads };
    return new OnnxRunnerPool(runners, first.reply.dims, report, performance.now() - t0);
  }

  /** The runner answered (or failed) one batch: settle it, then give the runner the next one. */
  private settle(runner: Runner, w: Waiting, f: () => void): void {
    if (!this.pending.delete(w)) return; // already failed by failAll
    runner.worker.unref();
    f();
    this.idle.push(runner);
    this.pump();
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const runner = this.idle.pop()!;
      const { job, w } = this.queue.shift()!;
      this.pending.add(w);
      runner.worker.ref(); // a batch in flight keeps the process alive; an idle runner does not
      const sent = job.type === 'embed' ? runner.client.call('embed', { batch: job.batch }) : runner.client.call('score', { pairs: job.pairs });
      sent.then(
        (data) => this.settle(runner, w, () => w.resolve(data)),
        (e: Error) => this.settle(runner, w, () => w.reject(e)),
      );
    }
  }

  private failAll(e: Error): void {
    for (const p of this.pending) p.reject(e);
    this.pending.clear();
    for (const q of this.queue.splice(0)) q.w.reject(e);
  }

  /** Run a batch on the next free runner: vectors for `embed`, one logit per pair for `score`. */
  run(job: Job): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, w: { resolve, reject } });
      this.pump();
    });
  }

  /** Release a runner's session and let its thread exit on its own (forced after 10 s). */
  private static async stopRunner(r: Runner): Promise<void> {
    r.worker.ref();
    const exited = new Promise<void>((resolve) => r.worker.once('exit', () => resolve()));
    (r.client as unknown as RpcClient<{ [SHUTDOWN_METHOD](input: null): Promise<null> }>).call(SHUTDOWN_METHOD, null).catch(() => undefined);
    const timer = setTimeout(() => void r.worker.terminate(), 10_000);
    await exited;
    clearTimeout(timer);
    r.client.close();
  }

  /** Release every session and let the runner threads exit on their own. */
  async dispose(): Promise<void> {
    this.failAll(new TandemError('CANCELLED', 'model disposed'));
    await Promise.all(this.runners.map((r) => OnnxRunnerPool.stopRunner(r)));
  }
}

/** What a model over a runner pool reports, whichever face it has. */
abstract class PooledModel {
  protected constructor(protected readonly pool: OnnxRunnerPool) {}

  get device(): DeviceReport {
    return this.pool.device;
  }

  get loadMs(): number {
    return this.pool.loadMs;
  }

  get concurrency(): number {
    return this.pool.concurrency;
  }

  dispose(): Promise<void> {
    return this.pool.dispose();
  }
}

/** An embedding model over a runner pool. */
export class OnnxPoolEmbedder extends PooledModel implements Embedder {
  readonly addSpecialTokens = true;

  static async load(opts: OnnxEmbedderOptions & { threads: number }): Promise<OnnxPoolEmbedder> {
    return new OnnxPoolEmbedder(await OnnxRunnerPool.load({ kind: 'embedder', opts }));
  }

  get dims(): number {
    return this.pool.dims;
  }

  embed(batch: number[][]): Promise<Float32Array> {
    return this.pool.run({ type: 'embed', batch });
  }
}

/** A cross-encoder over a runner pool: raw logits, one per pair, in batch order. */
export class CrossEncoderPool extends PooledModel {
  static async load(opts: CrossEncoderOptions): Promise<CrossEncoderPool> {
    return new CrossEncoderPool(await OnnxRunnerPool.load({ kind: 'cross-encoder', opts }));
  }

  score(pairs: EncodedPair[]): Promise<Float32Array> {
    return this.pool.run({ type: 'score', pairs });
  }
}
