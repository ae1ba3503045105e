import fs from 'node:fs';
import type {
  BackendEndpoint,
  BackendId,
  Boltz2BatchRequest,
  Boltz2LigandResult,
  Boltz2Prediction,
  Boltz2Request,
  CallTimings,
  CloudAdapter,
  CloudRequest,
  CostEstimate,
  EmbedRemoteResult,
  FunctionCapability,
  GenerateRequest,
  GenerateResult,
  HealthResult,
  WarmupResult,
} from '../../cloud-adapters/contract.js';
import { costUsd } from '../../cloud-adapters/prices.js';
import { defaultRegistry, type AdapterRegistry } from '../../cloud-adapters/registry.js';
import { validateEmbedRemote, validateGenerate, validateJsonAgainstSchema } from '../../cloud-adapters/validate.js';
import { ensureChemFor } from '../engine/node/chem-toolkit.js';
import { isTandemError, TandemError, toWire, type JsonValue } from '../engine/common/errors.js';
import type { JobHandle, JobQueue, JobRunContext, JobRunners, JobSpec } from '../jobs/job-queue.js';
import type { JobStore } from '../jobs/job-store.js';
import type { Backend, Job, JsonObject } from '../jobs/job-types.js';
import type { Db } from '../store/database.js';
import { BACKEND_FAILURE_CODES, CircuitBreakers } from './circuit-breaker.js';
import { DEFAULT_REMOTE, endpointFor, envTokenSource, pollIntervalFromEnv, resolveCloudConfig, type CloudFlags, type Policy, type ResolvedCloudConfig, type RoutedKind, type TokenSource } from './cloud-config.js';
import { checkBudget, type BudgetCheck } from './costs.js';
import { FunctionLimiter } from './function-limiter.js';
import { ResultFiles, safeName } from './result-files.js';

/**
 * Cloud jobs as ordinary jobs: routing (policy per kind, circuit breakers, local fallback for
 * embeddings), budgets, per-function concurrency caps, dispatch through the adapters with the job
 * id as Idempotency-Key, result files under $TANDEM_HOME/results/<job>/, measured timings and cost.
 * Host-agnostic: the CLI, the web host and Electron's utility process all use this.
 */

/** Embeds texts on this machine (the CLI and hosts pass the engine's embedding worker). */
export type LocalEmbedder = (
  texts: string[],
  opts: { model: string; signal: AbortSignal; onProgress?: (done: number, total: number) => void },
) => Promise<{ vectors: Float32Array; dims: number; device: string; model: string; loadMs: number; inferenceMs: number }>;

/** Generates on this machine (issue 6's local models): the offline fallback for Qwen jobs. */
export type LocalGenerator = (
  req: { model: string; prompt: string; schema?: object; maxTokens?: number; temperature?: number; topK?: number; topP?: number; seed?: number; stop?: string[] },
  opts: { signal: AbortSignal; onToken?: (text: string) => void },
) => Promise<{ text: string; output: unknown | null; usage: { promptTokens: number; completionTokens: number }; device: string; model: string; loadMs: number; inferenceMs: number }>;

export interface CloudServiceDeps {
  env: NodeJS.ProcessEnv;
  db: Db;
  store: JobStore;
  flags?: CloudFlags;
  tokens?: TokenSource;
  registry?: AdapterRegistry;
  /** Timeouts and retry policy for every endpoint (tests shrink them). */
  tuning?: Partial<BackendEndpoint>;
  /** Between polls of a remote batch (default TANDEM_CLOUD_POLL_MS, else 2000 ms); when set, also the least time between 303 polls (default 1000 ms). */
  pollIntervalMs?: number;
  breakers?: CircuitBreakers;
  localEmbed?: LocalEmbedder;
  localGenerate?: LocalGenerator;
  /** Text of a local generation as it streams, per job (hosts forward it to the UI or a terminal). */
  onStream?: (jobId: string, text: string) => void;
  now?: () => number;
}

export interface RoutePlan {
  kind: RoutedKind;
  policy: Policy;
  backend: Backend;
  reason: string;
  /** The remote function, when remote. */
  function: string | null;
  estimate: CostEstimate | null;
  budget: BudgetCheck | null;
}

const KIND_WORDS: Record<RoutedKind, string> = { 'embed-remote': 'embeddings', generate: 'generation', boltz2: 'Boltz-2', 'boltz2-batch': 'Boltz-2 batches' };

/** The params stored with a cloud job (everything needed to run or resume it). */
interface CloudParams {
  request: CloudRequest;
  route: { policy: Policy; reason: string; function: string | null; estimateUsd: number | null };
}

function paramsOf(job: Job): CloudParams {
  const p = job.params as unknown as CloudParams;
  if (!p || typeof p !== 'object' || !p.request || typeof p.request !== 'object' || !p.route) {
    throw new TandemError('INVALID_ARGUMENT', `job ${job.id} has no cloud request in its params; submit it again with \`tandem submit\``);
  }
  return p;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export class CloudService {
  readonly breakers: CircuitBreakers;
  readonly limiter: FunctionLimiter;
  private readonly tokens: TokenSource;
  private readonly registry: AdapterRegistry;
  private readonly adapters = new Map<BackendId, CloudAdapter>();
  private cfg: ResolvedCloudConfig | undefined;
  private readonly probes = new Map<string, { ok: boolean; error: string | null; at: number }>();
  private readonly now: () => number;

  constructor(private readonly deps: CloudServiceDeps) {
    this.tokens = deps.tokens ?? envTokenSource(deps.env);
    this.registry = deps.registry ?? defaultRegistry();
    this.breakers = deps.breakers ?? new CircuitBreakers();
    this.now = deps.now ?? Date.now;
    this.limiter = new FunctionLimiter((key) => this.capFor(key));
    this.seedBreakers();
  }

  /** The resolved configuration (settings file < env < flags), re-read after `reload()`. */
  config(): ResolvedCloudConfig {
    return (this.cfg ??= resolveCloudConfig(this.deps.env, this.deps.flags ?? {}, this.tokens));
  }

  reload(): void {
    this.cfg = undefined;
    this.adapters.clear();
  }

  /** The adapter of a backend under the active profile (NOT_CONFIGURED naming the setting when its URL is missing). */
  adapter(backend: BackendId): CloudAdapter {
    const cached = this.adapters.get(backend);
    if (cached) return cached;
    const a = this.registry.create(backend, endpointFor(this.config(), backend, this.tokens, this.tuning()));
    this.adapters.set(backend, a);
    return a;
  }

  /** The endpoints' tuning: the host's, with TANDEM_CLOUD_POLL_MS (or pollIntervalMs) as the least spacing of 303 polls when set. */
  private tuning(): Partial<BackendEndpoint> {
    const t = this.deps.tuning ?? {};
    const minIntervalMs = t.poll?.minIntervalMs ?? this.deps.pollIntervalMs ?? pollIntervalFromEnv(this.deps.env);
    return minIntervalMs === undefined ? t : { ...t, poll: { ...t.poll, minIntervalMs } };
  }

  async health(backend: BackendId, fn?: string, signal?: AbortSignal): Promise<HealthResult> {
    return this.adapter(backend).health({ ...(fn ? { function: fn } : {}), ...(signal ? { signal } : {}) });
  }

  /**
   * Probe a backend's health (short deadline) and remember the answer for a minute: `plan` uses
   * it to send generation to the local model when Modal is unreachable. Never throws.
   */
  async probe(backend: BackendId, fn?: string): Promise<{ ok: boolean; error: string | null }> {
    const key = `${backend}:${fn ?? ''}`;
    try {
      const h = await this.adapter(backend).health({ deadlineMs: 5000, ...(fn ? { function: fn } : {}) });
      const r = { ok: h.ok, error: h.ok ? null : `${backend} unhealthy: ${h.status}` };
      this.probes.set(key, { ...r, at: this.now() });
      return r;
    } catch (e) {
      const w = toWire(e);
      const r = { ok: false, error: `${backend} unreachable: ${w.code === 'OFFLINE' || w.code === 'NETWORK_ERROR' ? w.message.replace(/^.*?:\s*(?=E[A-Z]+)/, '') : `${w.code}: ${w.message}`}` };
      this.probes.set(key, { ...r, at: this.now() });
      return r;
    }
  }

  /**
   * Before routing a request whose `auto` policy depends on the backend's health (generation with a
   * local fallback), probe that health now. Cheap no-op otherwise.
   */
  async checkRoute(req: CloudRequest, policy?: Policy): Promise<void> {
    if (req.kind !== 'generate' || !this.deps.localGenerate) return;
    if ((policy ?? this.config().routing.generate) !== 'auto') return;
    const backend = DEFAULT_REMOTE.generate;
    let fnName: string;
    try {
      fnName = this.adapter(backend).functionFor(req).name;
    } catch (e) {
      // not configured: the local model answers
      this.probes.set(`${backend}:health`, { ok: false, error: `${backend} not configured: ${toWire(e).message}`, at: this.now() });
      return;
    }
    await this.probe(backend, CloudService.healthFunctionFor(fnName));
  }

  /** The health function that belongs to a request's function (generate -> health, qwen-80b-generate -> qwen-80b-health). */
  static healthFunctionFor(fnName: string): string {
    return fnName === 'generate' ? 'health' : fnName.endsWith('-generate') ? fnName.replace(/-generate$/, '-health') : `${fnName}-health`;
  }

  /** Route, validate, estimate and check the budget of a request, without recording anything. */
  plan(req: CloudRequest, policy?: Policy): RoutePlan {
    const cfg = this.config();
    const kind = req.kind;
    const pol = policy ?? cfg.routing[kind];
    const canLocal = (kind === 'embed-remote' && this.deps.localEmbed !== undefined) || (kind === 'generate' && this.deps.localGenerate !== undefined);
    let backend: Backend;
    let reason: string;
    if (pol === 'local') {
      if (!canLocal) throw new TandemError('INVALID_ARGUMENT', `${KIND_WORDS[kind]} cannot run on this machine: use --backend modal or cloud-run`);
      [backend, reason] = ['local', 'policy local'];
    } else if (pol === 'auto') {
      if (canLocal && kind === 'embed-remote') [backend, reason] = ['local', 'policy auto: this machine can do it'];
      else [backend, reason] = [DEFAULT_REMOTE[kind], `policy auto: ${KIND_WORDS[kind]} ${kind === 'generate' ? 'go to Modal when it is healthy and within budget' : 'need a remote GPU'}`];
    } else {
      [backend, reason] = [pol, `policy ${pol}`];
    }
    // Fallbacks to this machine: embeddings whenever the backend's breaker is open; generation
    // under `auto` when Modal is open-circuited, unreachable or over budget.
    const mayFallBack = canLocal && (kind === 'embed-remote' || pol === 'auto');
    let remoteEstimate: CostEstimate | null = null;
    if (backend !== 'local' && mayFallBack) {
      const b = this.breakers.status(backend);
      const remote = backend;
      const localModel = kind === 'generate' ? cfg.localGenerateModel : cfg.localEmbedModel;
      if (b.state === 'open') {
        [backend, reason] = ['local', `${remote} circuit open after ${b.consecutiveFailures} consecutive failures (last: ${b.lastError ?? 'unknown'}): fell back to local ${localModel}`];
      } else if (kind === 'generate') {
        let adapter: CloudAdapter;
        try {
          adapter = this.adapter(remote);
        } catch (e) {
          if (!isTandemError(e, 'NOT_CONFIGURED')) throw e;
          validateGenerate(req as GenerateRequest);
          return { kind, policy: pol, backend: 'local', reason: `${remote} not configured (${e.message}): answered by local ${localModel}`, function: null, estimate: null, budget: null };
        }
        const fnName = adapter.functionFor(req).name;
        const probe = this.probes.get(`${remote}:${CloudService.healthFunctionFor(fnName)}`);
        remoteEstimate = adapter.estimateCost(req, cfg.prices);
        const budget = checkBudget(this.deps.db, cfg.budget, remoteEstimate.usd, this.now());
        if (probe && !probe.ok && this.now() - probe.at < 60_000) [backend, reason] = ['local', `${probe.error}: fell back to local ${localModel}`];
        else if (budget && !budget.ok) [backend, reason] = ['local', `${budget.message}: fell back to local ${localModel}`];
      }
    }
    if (backend === 'local') {
      if (req.kind === 'embed-remote') validateEmbedRemote(req);
      if (req.kind === 'generate') validateGenerate(req);
      return { kind, policy: pol, backend, reason, function: null, estimate: null, budget: null };
    }
    const adapter = this.adapter(backend);
    adapter.validate(req);
    const fn = adapter.functionFor(req);
    const estimate = remoteEstimate ?? adapter.estimateCost(req, cfg.prices);
    const budget = checkBudget(this.deps.db, cfg.budget, estimate.usd, this.now());
    return { kind, policy: pol, backend, reason, function: fn.name, estimate, budget };
  }

  /**
   * The job to record for a request (the host records it with JobQueue.submit, or JobStore.createJob
   * to run it elsewhere). A budget set to `block` that this job would exceed throws BUDGET_EXCEEDED
   * here, before anything is recorded or sent.
   */
  prepare(req: CloudRequest, opts: { policy?: Policy; priority?: number } = {}): { spec: JobSpec; plan: RoutePlan } {
    const plan = this.plan(req, opts.policy);
    if (plan.budget && !plan.budget.ok && plan.budget.action === 'block') throw new TandemError('BUDGET_EXCEEDED', plan.budget.message, { data: { budgetUsd: plan.budget.budgetUsd, afterUsd: plan.budget.afterUsd } });
    const params: CloudParams = { request: req, route: { policy: plan.policy, reason: plan.reason, function: plan.function, estimateUsd: plan.estimate?.usd ?? null } };
    const spec: JobSpec = {
      kind: req.kind,
      backend: plan.backend,
      params: params as unknown as JsonObject,
      input: req as unknown as JsonValue,
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
    };
    return { spec, plan };
  }

  /** prepare() + record and schedule on `queue`. */
  submit(queue: JobQueue, req: CloudRequest, opts: { policy?: Policy; priority?: number } = {}): { handle: JobHandle; plan: RoutePlan } {
    const { spec, plan } = this.prepare(req, opts);
    return { handle: queue.submit(spec), plan };
  }

  /** Warm a function up; recorded as a `warmup` job (the cold start it paid is its cost). */
  warmupJob(queue: JobQueue, backend: BackendId, fn?: string): JobHandle {
    return queue.submit({ kind: 'warmup', backend, params: { backend, function: fn ?? null }, input: { backend, function: fn ?? null } });
  }

  /** The job kinds this service runs. */
  static readonly KINDS = ['boltz2', 'boltz2-batch', 'generate', 'embed-remote', 'warmup'] as const;

  /** Register the runners of every cloud job kind (so retry, resume and adopt work in any host). */
  registerRunners(runners: JobRunners): void {
    for (const kind of CloudService.KINDS) runners.register(kind, (run) => this.run(kind, run));
  }

  /** Run one job of a cloud kind (what the registered runners call). */
  run(kind: (typeof CloudService.KINDS)[number], run: JobRunContext): Promise<JsonValue> {
    if (kind === 'boltz2-batch') return this.runBatch(run);
    if (kind === 'warmup') return this.runWarmup(run);
    return this.runSync(run);
  }

  // --- runners ---

  private async runSync(run: JobRunContext): Promise<JsonValue> {
    const { request: req, route } = paramsOf(run.job);
    if (run.job.backend === 'local') return req.kind === 'generate' ? this.runLocalGenerate(run, req) : this.runLocalEmbed(run, req);
    const backend = run.job.backend as BackendId;
    const { adapter, fn, release } = await this.enter(run, backend, req);
    const out = await this.call(backend, () => adapter.submit(req, { signal: run.signal, idempotencyKey: run.job.id, deadlineMs: fn.timeoutS * 1000 }), release);
    this.breakers.recordSuccess(backend);
    if (out.state !== 'done') throw new TandemError('BACKEND_ERROR', `${backend} ${fn.name} accepted a synchronous ${req.kind} job as async (remote id ${out.remoteId})`);
    const t = out.timings;
    this.recordRun(run, backend, fn, t);
    const files = new ResultFiles(this.config().home, run.job.id);
    const answered = { backend, function: out.function, gpu: `${fn.gpu.count}x ${fn.gpu.type}`, reason: route.reason };
    const timings = { totalMs: t.totalMs, ttfbMs: t.ttfbMs, coldStart: t.coldStart, modelLoadMs: t.modelLoadMs, inferenceMs: t.inferenceMs, transferMs: t.transferMs, attempts: t.attempts };
    if (req.kind === 'boltz2') {
      const r = out.result as Boltz2Prediction;
      return { answeredBy: answered, timings, ...this.writePrediction(files, req.name, r), confidence: r.confidence, affinity: r.affinity } as JsonValue;
    }
    if (req.kind === 'generate') {
      const r = out.result as GenerateResult;
      const check = validateJsonAgainstSchema(req.schema, r.output);
      if (!check.ok) {
        files.writeJson('output.invalid.json', r.output);
        throw new TandemError('BACKEND_ERROR', `${backend} returned output that does not match the request's JSON Schema: ${check.errors}`);
      }
      const output = files.writeJson('output.json', r.output);
      return { answeredBy: { ...answered, model: req.model }, timings, files: { output }, output: r.output, usage: r.usage } as JsonValue;
    }
    const r = out.result as EmbedRemoteResult;
    return { answeredBy: { ...answered, model: 'hkunlp/instructor-xl' }, timings, ...this.writeEmbeddings(files, r.embeddings.length, r.dim, flatten(r.embeddings, r.dim), 'hkunlp/instructor-xl') } as JsonValue;
  }

  private async runBatch(run: JobRunContext): Promise<JsonValue> {
    const { request: req, route } = paramsOf(run.job);
    if (req.kind !== 'boltz2-batch') throw new TandemError('INVALID_ARGUMENT', `job ${run.job.id} is not a boltz2-batch request`);
    const backend = run.job.backend as BackendId;
    const files = new ResultFiles(this.config().home, run.job.id);
    const { adapter, fn, release } = await this.enter(run, backend, req);
    if (fn.batch === 'per-item') {
      release();
      return this.runBatchPerLigand(run, adapter, fn, req, files, route.reason);
    }
    let remoteId = run.job.remoteId;
    try {
      if (remoteId) {
        run.note(`resuming polling of remote batch ${remoteId}`, { remoteId });
      } else {
        const out = await this.call(backend, () => adapter.submit(req, { signal: run.signal, idempotencyKey: run.job.id, deadlineMs: fn.timeoutS * 1000 }));
        if (out.state !== 'accepted') throw new TandemError('BACKEND_ERROR', `${backend} ${fn.name} answered a batch synchronously`);
        remoteId = out.remoteId;
        run.setRemoteId(remoteId);
      }
    } finally {
      release();
    }
    const id = remoteId;
    const onAbort = () => void adapter.cancel(id).catch(() => {});
    run.signal.addEventListener('abort', onAbort, { once: true });
    const written = new Map<string, LigandFiles>();
    const interval = this.deps.pollIntervalMs ?? pollIntervalFromEnv(this.deps.env) ?? 2000;
    let failures = 0;
    try {
      for (;;) {
        let p;
        try {
          p = await adapter.poll(id, { signal: run.signal });
          failures = 0;
          this.breakers.recordSuccess(backend);
        } catch (e) {
          if (run.signal.aborted || !isTandemError(e) || !BACKEND_FAILURE_CODES.includes(e.code) || ++failures >= 10) {
            this.noteFailure(backend, e);
            throw e;
          }
          run.note(`poll of remote batch ${id} failed (${failures}/10), retrying: ${e.message}`);
          await sleep(interval * failures, run.signal);
          continue;
        }
        for (const r of p.results) {
          if (written.has(r.ligandId)) continue;
          const w = this.writeLigand(files, r);
          written.set(r.ligandId, w);
          run.note(`ligand ${r.ligandId} done (${written.size}/${p.total})`, { ligandId: r.ligandId, confidence: r.confidence, affinity: r.affinity, structure: w.structure });
        }
        run.progress(p.done, p.total);
        if (p.status === 'succeeded') {
          const started = Date.parse(run.job.timings.startedAt ?? new Date(this.now()).toISOString());
          const gpuS = Math.max(0, (this.now() - started) / 1000);
          run.setDevice(`${backend} ${fn.gpu.count}x ${fn.gpu.type}`);
          run.setCostUsd(costUsd(fn.gpu, gpuS, this.config().prices, backend));
          run.setTimings({ inferenceMs: gpuS * 1000 });
          return { answeredBy: { backend, function: fn.name, gpu: `${fn.gpu.count}x ${fn.gpu.type}`, reason: route.reason }, remoteId: id, total: p.total, ligands: [...written.values()] } as unknown as JsonValue;
        }
        if (p.status === 'failed') throw new TandemError('BACKEND_ERROR', `remote batch ${id} failed on ${backend}: ${p.error ?? 'no reason given'}`);
        if (p.status === 'cancelled') throw new TandemError('CANCELLED', `remote batch ${id} was cancelled on ${backend}`);
        await sleep(interval, run.signal);
      }
    } finally {
      run.signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * A batch on a backend without a batch API (Modal's boltz2 function): one call per ligand, each
   * with its own idempotency key (`<job>:<ligand>`), results written as they arrive. A resumed job
   * skips the ligands whose files are already on disk, and counts the GPU time they paid for.
   */
  private async runBatchPerLigand(run: JobRunContext, adapter: CloudAdapter, fn: FunctionCapability, req: Boltz2BatchRequest, files: ResultFiles, reason: string): Promise<JsonValue> {
    const backend = adapter.id;
    const ligands: LigandFiles[] = [];
    let gpuMs = 0;
    let loadMs = 0;
    let transferMs = 0;
    const total = req.ligands.length;
    for (const [i, lig] of req.ligands.entries()) {
      const done = files.readJson(`${safeName(lig.id)}.run.json`) as { ligand: LigandFiles; gpuMs: number } | null;
      if (done && fs.existsSync(done.ligand.structure)) {
        ligands.push(done.ligand);
        gpuMs += done.gpuMs;
        run.progress(i + 1, total);
        continue;
      }
      const one: Boltz2Request = { kind: 'boltz2', name: `${req.name}-${lig.id}`, proteins: req.proteins, ligands: [lig], ...(req.affinity !== undefined ? { affinity: req.affinity } : {}) };
      const release = await this.limiter.acquire(`${backend}:${fn.name}`, run.signal);
      const out = await this.call(backend, () => adapter.submit(one, { signal: run.signal, idempotencyKey: `${run.job.id}:${lig.id}`, deadlineMs: fn.timeoutS * 1000 }), release);
      this.breakers.recordSuccess(backend);
      if (out.state !== 'done') throw new TandemError('BACKEND_ERROR', `${backend} ${fn.name} answered a single prediction asynchronously`);
      const t = out.timings;
      const ms = t.modelLoadMs + t.inferenceMs > 0 ? t.modelLoadMs + t.inferenceMs : t.totalMs;
      const w = this.writeLigand(files, { ligandId: lig.id, ...(out.result as Boltz2Prediction) });
      files.writeJson(`${safeName(lig.id)}.run.json`, { ligand: { ...w }, gpuMs: ms });
      ligands.push(w);
      gpuMs += ms;
      loadMs += t.modelLoadMs;
      transferMs += t.transferMs;
      run.note(`ligand ${lig.id} done (${i + 1}/${total})`, { ligandId: lig.id, confidence: (out.result as Boltz2Prediction).confidence, affinity: (out.result as Boltz2Prediction).affinity, structure: w.structure });
      run.progress(i + 1, total);
    }
    run.setDevice(`${backend} ${fn.gpu.count}x ${fn.gpu.type}`);
    run.setTimings({ loadMs, inferenceMs: Math.max(0, gpuMs - loadMs), transferMs });
    run.setCostUsd(costUsd(fn.gpu, gpuMs / 1000, this.config().prices, backend));
    return { answeredBy: { backend, function: fn.name, gpu: `${fn.gpu.count}x ${fn.gpu.type}`, reason }, total, ligands } as unknown as JsonValue;
  }

  private async runWarmup(run: JobRunContext): Promise<JsonValue> {
    const p = run.job.params as { backend?: unknown; function?: unknown };
    const backend = run.job.backend as BackendId;
    const adapter = this.adapter(backend);
    const fnName = typeof p.function === 'string' ? p.function : undefined;
    const w: WarmupResult = await this.call(backend, () => adapter.warmup({ signal: run.signal, ...(fnName ? { function: fnName } : {}) }));
    this.breakers.recordSuccess(backend);
    const fn = warmedFunction(adapter, w.function);
    run.setDevice(`${backend} ${fn.gpu.count}x ${fn.gpu.type}`);
    run.setTimings({ loadMs: w.modelLoadMs, transferMs: Math.max(0, w.totalMs - w.modelLoadMs) });
    run.setCostUsd(costUsd(fn.gpu, w.modelLoadMs / 1000, this.config().prices, backend));
    return { ...w } as unknown as JsonValue;
  }

  private async runLocalGenerate(run: JobRunContext, req: GenerateRequest): Promise<JsonValue> {
    const gen = this.deps.localGenerate;
    if (!gen) throw new TandemError('DEVICE_UNAVAILABLE', 'this host has no local generation engine');
    const model = this.config().localGenerateModel;
    let streamed = 0;
    const r = await gen(
      { model, prompt: req.prompt, schema: req.schema, ...(req.maxTokens ? { maxTokens: req.maxTokens } : {}), ...(req.temperature !== undefined ? { temperature: req.temperature } : {}) },
      {
        signal: run.signal,
        onToken: (text) => {
          run.progress(++streamed, req.maxTokens ?? streamed);
          this.deps.onStream?.(run.job.id, text);
        },
      },
    );
    run.setDevice(r.device);
    run.setTimings({ loadMs: r.loadMs, inferenceMs: r.inferenceMs });
    const check = validateJsonAgainstSchema(req.schema, r.output);
    const files = new ResultFiles(this.config().home, run.job.id);
    if (!check.ok) {
      files.write('output.invalid.txt', r.text);
      throw new TandemError('INFERENCE_FAILED', `the local model's output does not match the request's JSON Schema: ${check.errors}`);
    }
    const output = files.writeJson('output.json', r.output as JsonValue);
    const { route } = paramsOf(run.job);
    return { answeredBy: { backend: 'local', model: r.model, device: r.device, reason: route.reason }, files: { output }, output: r.output, text: r.text, usage: r.usage } as JsonValue;
  }

  private async runLocalEmbed(run: JobRunContext, req: CloudRequest): Promise<JsonValue> {
    if (req.kind !== 'embed-remote') throw new TandemError('INVALID_ARGUMENT', `${req.kind} jobs cannot run locally`);
    const embed = this.deps.localEmbed;
    if (!embed) throw new TandemError('DEVICE_UNAVAILABLE', 'this host has no local embedding engine');
    const model = this.config().localEmbedModel;
    const texts = req.instruction ? req.texts.map((t) => `${req.instruction} ${t}`) : req.texts;
    const r = await embed(texts, { model, signal: run.signal, onProgress: (d, t) => run.progress(d, t) });
    run.setDevice(r.device);
    run.setTimings({ loadMs: r.loadMs, inferenceMs: r.inferenceMs });
    const { route } = paramsOf(run.job);
    const files = new ResultFiles(this.config().home, run.job.id);
    return { answeredBy: { backend: 'local', model: r.model, device: r.device, reason: route.reason }, ...this.writeEmbeddings(files, texts.length, r.dims, r.vectors, r.model) } as JsonValue;
  }

  // --- helpers ---

  /** Breaker check (a recorded failure when open), budget check, then a concurrency slot. */
  private async enter(run: JobRunContext, backend: BackendId, req: CloudRequest): Promise<{ adapter: CloudAdapter; fn: FunctionCapability; release: () => void }> {
    const adapter = this.adapter(backend);
    await ensureChemFor(req); // RDKit reads every ligand before anything is sent (retries and resumes too)
    adapter.validate(req);
    const fn = adapter.functionFor(req);
    if (!run.job.remoteId && !this.breakers.allow(backend)) {
      const b = this.breakers.status(backend);
      throw new TandemError('BACKEND_ERROR', `${backend} circuit open after ${b.consecutiveFailures} consecutive failures (last: ${b.lastError ?? 'unknown'}); next attempt allowed at ${new Date(b.retryAt ?? this.now()).toISOString()}`);
    }
    const cfg = this.config();
    if (!run.job.remoteId) {
      const budget = checkBudget(this.deps.db, cfg.budget, adapter.estimateCost(req, cfg.prices).usd, this.now());
      if (budget && !budget.ok) {
        if (budget.action === 'block') throw new TandemError('BUDGET_EXCEEDED', budget.message);
        run.note(`budget warning: ${budget.message}`);
      }
    }
    const release = await this.limiter.acquire(`${backend}:${fn.name}`, run.signal);
    return { adapter, fn, release };
  }

  private recordRun(run: JobRunContext, backend: BackendId, fn: FunctionCapability, t: CallTimings): void {
    run.setDevice(`${backend} ${fn.gpu.count}x ${fn.gpu.type}`);
    run.setTimings({ loadMs: t.modelLoadMs, inferenceMs: t.inferenceMs, transferMs: t.transferMs });
    // GPU time the job paid for: the server's load + inference when reported, else the wall time.
    const gpuMs = t.modelLoadMs + t.inferenceMs > 0 ? t.modelLoadMs + t.inferenceMs : t.totalMs;
    run.setCostUsd(costUsd(fn.gpu, gpuMs / 1000, this.config().prices, backend));
  }

  /** One call to a backend; a failure that says the backend is unwell counts against its breaker. `release` frees a concurrency slot either way. */
  private async call<T>(backend: BackendId, f: () => Promise<T>, release?: () => void): Promise<T> {
    try {
      return await f();
    } catch (e) {
      this.noteFailure(backend, e);
      throw e;
    } finally {
      release?.();
    }
  }

  private noteFailure(backend: BackendId, e: unknown): void {
    if (isTandemError(e) && BACKEND_FAILURE_CODES.includes(e.code)) this.breakers.recordFailure(backend, `${e.code}: ${e.message}`);
  }

  private writePrediction(files: ResultFiles, name: string, r: Boltz2Prediction): { files: { structure: string; confidence: string; affinity: string | null } } {
    return {
      files: {
        structure: files.write(`${name}.cif`, r.structure),
        confidence: files.writeJson(`${name}.confidence.json`, r.confidence),
        affinity: r.affinity ? files.writeJson(`${name}.affinity.json`, r.affinity) : null,
      },
    };
  }

  private writeLigand(files: ResultFiles, r: Boltz2LigandResult): LigandFiles {
    return { ligandId: r.ligandId, ...this.writePrediction(files, r.ligandId, r).files };
  }

  private writeEmbeddings(files: ResultFiles, count: number, dims: number, vectors: Float32Array, model: string): JsonObject {
    const bytes = new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength);
    const data = files.write('embeddings.f32', bytes);
    const meta = files.writeJson('embeddings.json', { model, count, dims, dtype: 'float32', byteOrder: 'little-endian', layout: 'row-major, row i = text i', file: 'embeddings.f32' });
    return { model, count, dims, files: { embeddings: data, meta } };
  }

  private capFor(key: string): number {
    const [backend, name] = key.split(':') as [BackendId, string];
    let cap = Number.POSITIVE_INFINITY;
    try {
      const fn = this.adapter(backend).capabilities().functions.find((f) => f.name === name);
      if (fn) cap = fn.maxConcurrency;
    } catch {
      // not configured: the call itself will fail with NOT_CONFIGURED
    }
    const user = this.config().concurrency[key];
    if (user !== undefined) cap = Math.min(cap, user);
    return Number.isFinite(cap) ? cap : 1;
  }

  /** Replay the last remote jobs' outcomes so a breaker opened by earlier runs stays open here. */
  private seedBreakers(): void {
    for (const backend of ['modal', 'cloud-run'] as const) {
      const rows = this.deps.store.list({ backend, status: ['succeeded', 'failed'], limit: this.breakers.failureThreshold * 2 }).reverse();
      this.breakers.seed(
        backend,
        rows
          .filter((j) => j.status === 'succeeded' || (j.error && BACKEND_FAILURE_CODES.includes(j.error.code)))
          .map((j) => ({ ok: j.status === 'succeeded', at: Date.parse(j.timings.finishedAt ?? j.timings.queuedAt), ...(j.error ? { error: `${j.error.code}: ${j.error.message}` } : {}) })),
      );
    }
  }
}

function flatten(rows: number[][], dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(r, i * dim));
  return out;
}

/** The function whose GPU a warmup paid for (warmup -> generate, qwen-80b-warmup -> qwen-80b-generate, embed-warmup -> embed). */
function warmedFunction(adapter: CloudAdapter, warmupFn: string): FunctionCapability {
  const fns = adapter.capabilities().functions;
  const prefix = warmupFn.replace(/-?warmup$/, '');
  return fns.find((f) => f.name === `${prefix ? prefix + '-' : ''}generate`) ?? fns.find((f) => f.name === prefix) ?? fns.find((f) => f.name === (prefix || 'generate')) ?? fns[0]!;
}

interface LigandFiles {
  ligandId: string;
  structure: string;
  confidence: string;
  affinity: string | null;
}
