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
  EmbedRemoteRequest,
  EmbedRemoteResult,
  SubmitOutcome,
  FunctionCapability,
  GenerateRequest,
  GenerateResult,
  HealthResult,
  WarmupResult,
} from '../../../cloud-adapters/contract.js';
import { costUsd } from '../../../cloud-adapters/prices.js';
import { defaultRegistry, type AdapterRegistry } from '../../../cloud-adapters/registry.js';
import { validateEmbedRemote, validateGenerate, validateJsonAgainstSchema } from '../../../cloud-adapters/validate.js';
import { ensureChemFor } from '../node/chem-toolkit.js';
import { isTandemError, TandemError, toWire, type JsonValue } from '../common/errors.js';
import type { JobResultInput } from '../common/job-kinds.js';
import type { JobHandle, JobQueue, JobRunContext, JobRunFn, JobRunners, JobSpec, KindJob } from '../jobs/job-queue.js';
import type { JobStore } from '../jobs/job-store.js';
import type { Backend } from '../jobs/job-types.js';
import type { Db } from '../store/database.js';
import { BACKEND_FAILURE_CODES, CircuitBreakers } from './circuit-breaker.js';
import { DEFAULT_LOCAL_EMBED_MODEL, DEFAULT_REMOTE, endpointFor, envTokenSource, pollIntervalFromEnv, resolveCloudConfig, type CloudFlags, type Policy, type ResolvedCloudConfig, type RoutedKind, type TokenSource } from './cloud-config.js';
import { checkBudget, type BudgetCheck } from './costs.js';
import { FunctionLimiter } from './function-limiter.js';
import { BUILTIN_EMBEDDING_MODEL, installHint, localModelInstalled, type LocalTask } from './local-models.js';
import { ResultFiles, safeName } from './result-files.js';
import { formatSeconds, WaitTracker, type WaitStatus } from './wait-status.js';

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
  req: { model: string; prompt: string; schema?: object; lenient?: boolean; maxTokens?: number; temperature?: number; topK?: number; topP?: number; seed?: number; stop?: string[] },
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
  /** What a remote call is doing while it waits ("waiting for Modal generate: cold start 0:42 (...)"), at each change and every `statusIntervalMs`. */
  onWait?: (status: WaitStatus) => void;
  /** Between two status lines of the same phase (default TANDEM_CLOUD_STATUS_MS, else 5000 ms). */
  statusIntervalMs?: number;
  /** Whether a local model is on disk (default: its files under the model directories; the built-in one always is). */
  localModelInstalled?: (id: string, task: LocalTask) => boolean;
  now?: () => number;
}

/** What answers a request: the model, where, and the model asked for when that is a different one. */
export interface AnsweredBy {
  model: string;
  /** "this machine", or the backend and its GPUs ("modal 1x A100-80GB"). */
  where: string;
  /** The model asked for, when another one answers (a 0.5B local model for a qwen-32b request); null otherwise. */
  substitutedFor: string | null;
}

/** Both estimates of a remote job and the one the plan assumed, with why. */
export interface EstimatePair {
  cold: CostEstimate;
  warm: CostEstimate;
  assumed: 'warm' | 'cold';
  /** "modal generate answered 2:10 ago, within its 10 min scale-down window". */
  why: string;
}

export interface RoutePlan {
  kind: RoutedKind;
  policy: Policy;
  backend: Backend;
  reason: string;
  /** The remote function, when remote. */
  function: string | null;
  /** The estimate the plan assumed (warm or cold: see `estimates`). */
  estimate: CostEstimate | null;
  /** Warm and cold figures, and which one `estimate` is. */
  estimates: EstimatePair | null;
  budget: BudgetCheck | null;
  /** Who will answer: the model, where, and what it stands in for. */
  answeredBy: AnsweredBy | null;
}

/** The model a request asks for, in words. */
export function askedModel(req: CloudRequest): string {
  if (req.kind === 'generate') return req.model;
  if (req.kind === 'embed-remote') return REMOTE_EMBED_MODEL;
  return 'Boltz-2';
}

export const REMOTE_EMBED_MODEL = 'hkunlp/instructor-xl';

/** What the wait lines call a request's model ("for qwen-32b", "for instructor-xl", "for Boltz-2"). */
function subjectOf(req: CloudRequest): string {
  return req.kind === 'embed-remote' ? 'instructor-xl' : askedModel(req);
}

const KIND_WORDS: Record<RoutedKind, string> = { 'embed-remote': 'embeddings', generate: 'generation', boltz2: 'Boltz-2', 'boltz2-batch': 'Boltz-2 batches' };

/** The params stored with a cloud job (everything needed to run or resume it). */
interface CloudParams {
  request: CloudRequest;
  route: {
    policy: Policy;
    reason: string;
    function: string | null;
    estimateUsd: number | null;
    /** Which estimate estimateUsd is, and the other figure (jobs recorded before these fields lack them). */
    estimateAssumed?: 'warm' | 'cold' | null;
    estimateWarmUsd?: number | null;
    estimateColdUsd?: number | null;
    answeredBy?: AnsweredBy | null;
  };
}

/** The job kinds this service runs: one per request kind, and warmups. */
export type CloudJobKind = RoutedKind | 'warmup';

/** A cloud job's params (request and route), checked by its kind's schema when the queue read the job (common/job-kinds.ts). */
function paramsOf(job: KindJob<RoutedKind>): CloudParams {
  return job.params;
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
  /** When each function (`backend:function`) last answered in this process. */
  private readonly seen = new Map<string, number>();
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

  /** The local model that answers a kind routed to this machine, and whether it is on disk. */
  localModel(task: LocalTask): { model: string; installed: boolean; hint: string; note: string | null } {
    const cfg = this.config();
    const installed = (id: string) => (this.deps.localModelInstalled ? this.deps.localModelInstalled(id, task) : localModelInstalled(id, task, this.deps.env));
    if (task === 'generate') {
      const model = cfg.localGenerateModel;
      return { model, installed: installed(model), hint: installHint(model), note: null };
    }
    const model = cfg.localEmbedModel;
    if (installed(model)) return { model, installed: true, hint: installHint(model), note: null };
    // The default local embedder is not pulled: the built-in model (always on disk) stands in; a model the user set does not.
    if (model === DEFAULT_LOCAL_EMBED_MODEL && installed(BUILTIN_EMBEDDING_MODEL)) {
      return { model: BUILTIN_EMBEDDING_MODEL, installed: true, hint: installHint(model), note: `${model} is not installed, the built-in ${BUILTIN_EMBEDDING_MODEL} answers` };
    }
    return { model, installed: false, hint: installHint(model), note: null };
  }

  /** The words saying a local fallback is missing: "the local fallback X is not installed (tandem models pull X)". */
  private missingLocal(task: LocalTask): string {
    const l = this.localModel(task);
    return `the local fallback ${l.model} is not installed (${l.hint})`;
  }

  /** The scale-down window of a function, seconds: the settings' value, else the function's own, else 0 (never assumed warm). */
  scaledownS(backend: BackendId, fn: FunctionCapability): number {
    return this.config().scaledownS[`${backend}:${fn.name}`] ?? fn.scaledownS ?? 0;
  }

  /**
   * When a function last answered (ms since the epoch), from this process and the job history: a
   * finished call to it, or a warm-up of it. null when never seen.
   */
  lastSeenWarm(backend: BackendId, fnName: string): number | null {
    let at = this.seen.get(`${backend}:${fnName}`) ?? null;
    let adapter: CloudAdapter | null = null;
    try {
      adapter = this.adapter(backend);
    } catch {
      // not configured: only what this process saw
    }
    for (const j of this.deps.store.list({ backend, status: 'succeeded', limit: 50 })) {
      const finished = Date.parse(j.timings.finishedAt ?? '');
      if (!Number.isFinite(finished) || (at !== null && finished <= at)) continue;
      let fn: string | null = null;
      const answered = (j.result as { answeredBy?: { function?: unknown } } | null)?.answeredBy;
      if (answered && typeof answered.function === 'string') fn = answered.function;
      else if (j.kind === 'warmup' && adapter) fn = warmedFunction(adapter, String((j.result as { function?: unknown } | null)?.function ?? (j.params as { function?: unknown }).function ?? 'warmup')).name;
      if (fn === fnName) at = finished;
    }
    return at;
  }

  /** Warm or cold, as the client knows it: seen answering within the function's scale-down window is warm. */
  warmth(backend: BackendId, fn: FunctionCapability): { assumed: 'warm' | 'cold'; why: string } {
    const window = this.scaledownS(backend, fn);
    const at = this.lastSeenWarm(backend, fn.name);
    const name = `${backend} ${fn.name}`;
    if (at === null) return { assumed: 'cold', why: `${name} not seen warm${window > 0 ? ` within its ${formatSeconds(window)} scale-down window` : ''}` };
    const ago = Math.max(0, (this.now() - at) / 1000);
    if (ago < window) return { assumed: 'warm', why: `${name} answered ${formatSeconds(Math.round(ago))} ago, within its ${formatSeconds(window)} scale-down window` };
    return { assumed: 'cold', why: `${name} last answered ${formatSeconds(Math.round(ago))} ago, past its ${formatSeconds(window)} scale-down window` };
  }

  /** Warm and cold estimates of a request on a backend, and the one assumed. */
  estimates(adapter: CloudAdapter, req: CloudRequest): EstimatePair {
    const prices = this.config().prices;
    const fn = adapter.functionFor(req);
    const w = this.warmth(adapter.id, fn);
    return { cold: adapter.estimateCost(req, prices), warm: adapter.estimateCost(req, prices, { warm: true }), assumed: w.assumed, why: w.why };
  }

  /** Route, validate, estimate and check the budget of a request, without recording anything. */
  plan(req: CloudRequest, policy?: Policy): RoutePlan {
    const cfg = this.config();
    const kind = req.kind;
    const pol = policy ?? cfg.routing[kind];
    const task: LocalTask | null = kind === 'embed-remote' && this.deps.localEmbed !== undefined ? 'embed' : kind === 'generate' && this.deps.localGenerate !== undefined ? 'generate' : null;
    // This machine can answer only with a local engine and its model on disk (or built in).
    const local = task ? this.localModel(task) : null;
    const canLocal = local !== null && local.installed;
    const localPlan = (reason: string): RoutePlan => {
      if (req.kind === 'embed-remote') validateEmbedRemote(req);
      if (req.kind === 'generate') validateGenerate(req);
      const model = local!.model;
      const asked = askedModel(req);
      return { kind, policy: pol, backend: 'local', reason: local!.note ? `${reason} (${local!.note})` : reason, function: null, estimate: null, estimates: null, budget: null, answeredBy: { model, where: 'this machine', substitutedFor: model === asked ? null : asked } };
    };
    let backend: Backend;
    let reason: string;
    if (pol === 'local') {
      if (!task) throw new TandemError('INVALID_ARGUMENT', `${KIND_WORDS[kind]} cannot run on this machine: use --backend modal or cloud-run`);
      if (!canLocal) throw new TandemError('MODEL_NOT_FOUND', `${KIND_WORDS[kind]} on this machine needs ${local!.model}, which is not installed (${local!.hint})`, { data: { id: local!.model } });
      return localPlan('policy local');
    } else if (pol === 'auto') {
      if (canLocal && kind === 'embed-remote') return localPlan('policy auto: this machine can do it');
      const how =
        kind === 'generate'
          ? 'goes to Modal when it is healthy and within budget'
          : kind === 'embed-remote'
            ? `go to Modal (${task ? this.missingLocal('embed') : 'this host has no local embedding engine'})`
            : kind === 'boltz2-batch'
              ? 'need a remote GPU'
              : 'needs a remote GPU';
      [backend, reason] = [DEFAULT_REMOTE[kind], `policy auto: ${KIND_WORDS[kind]} ${how}`];
    } else {
      [backend, reason] = [pol, `policy ${pol}`];
    }
    // Fallbacks to this machine: embeddings whenever the backend's breaker is open; generation
    // under `auto` when Modal is not configured, open-circuited, unreachable or over budget. Only
    // to a model on disk: without one, the plan fails naming both facts.
    const mayFallBack = task !== null && (kind === 'embed-remote' || pol === 'auto');
    let remoteEstimates: EstimatePair | null = null;
    if (mayFallBack) {
      const b = this.breakers.status(backend);
      const remote = backend;
      if (b.state === 'open') {
        const why = `${remote} circuit open after ${b.consecutiveFailures} consecutive failures (last: ${b.lastError ?? 'unknown'})`;
        if (canLocal) return localPlan(`${why}: fell back to local ${local!.model}`);
        throw new TandemError('BACKEND_ERROR', `${why} and ${this.missingLocal(task!)}`);
      } else if (kind === 'generate') {
        let adapter: CloudAdapter;
        try {
          adapter = this.adapter(remote);
        } catch (e) {
          if (!isTandemError(e, 'NOT_CONFIGURED')) throw e;
          validateGenerate(req as GenerateRequest);
          const setting = remote === 'modal' ? 'set TANDEM_MODAL_URL_TEMPLATE or open Cloud settings' : 'set TANDEM_CLOUDRUN_URL or open Cloud settings';
          const name = remote === 'modal' ? 'Modal' : 'Cloud Run';
          if (canLocal) return localPlan(`${name} is not configured (${setting}): answered by local ${local!.model}`);
          // The adapter's message names the profile and every place the URL can come from.
          throw new TandemError('NOT_CONFIGURED', `${name} is not configured (${setting}) and ${this.missingLocal('generate')}; ${e.message}`, {
            data: { ...(e.data ?? {}), localModel: local!.model, localInstalled: false },
          });
        }
        const fnName = adapter.functionFor(req).name;
        const probe = this.probes.get(`${remote}:${CloudService.healthFunctionFor(fnName)}`);
        remoteEstimates = this.estimates(adapter, req);
        const assumed = remoteEstimates[remoteEstimates.assumed];
        const budget = checkBudget(this.deps.db, cfg.budget, assumed.usd, this.now());
        const unreachable = probe && !probe.ok && this.now() - probe.at < 60_000;
        if (unreachable && canLocal) return localPlan(`${probe.error}: fell back to local ${local!.model}`);
        if (unreachable) throw new TandemError('OFFLINE', `${probe.error} and ${this.missingLocal('generate')}`);
        if (budget && !budget.ok && canLocal) return localPlan(`${budget.message}: fell back to local ${local!.model}`);
      }
    }
    const adapter = this.adapter(backend as BackendId);
    adapter.validate(req);
    const fn = adapter.functionFor(req);
    const estimates = remoteEstimates ?? this.estimates(adapter, req);
    const estimate = estimates[estimates.assumed];
    const budget = checkBudget(this.deps.db, cfg.budget, estimate.usd, this.now());
    const answeredBy: AnsweredBy = { model: askedModel(req), where: `${backend} ${fn.gpu.count}x ${fn.gpu.type}`, substitutedFor: null };
    return { kind, policy: pol, backend, reason, function: fn.name, estimate, estimates, budget, answeredBy };
  }

  /**
   * The job to record for a request (the host records it with JobQueue.submit, or JobStore.createJob
   * to run it elsewhere). A budget set to `block` that this job would exceed throws BUDGET_EXCEEDED
   * here, before anything is recorded or sent.
   */
  prepare(req: CloudRequest, opts: { policy?: Policy; priority?: number } = {}): { spec: JobSpec<RoutedKind>; plan: RoutePlan } {
    const plan = this.plan(req, opts.policy);
    if (plan.budget && !plan.budget.ok && plan.budget.action === 'block') throw new TandemError('BUDGET_EXCEEDED', plan.budget.message, { data: { budgetUsd: plan.budget.budgetUsd, afterUsd: plan.budget.afterUsd } });
    const params: CloudParams = {
      request: req,
      route: {
        policy: plan.policy,
        reason: plan.reason,
        function: plan.function,
        estimateUsd: plan.estimate?.usd ?? null,
        estimateAssumed: plan.estimates?.assumed ?? null,
        estimateWarmUsd: plan.estimates?.warm.usd ?? null,
        estimateColdUsd: plan.estimates?.cold.usd ?? null,
        answeredBy: plan.answeredBy,
      },
    };
    const base = { backend: plan.backend, ...(opts.priority !== undefined ? { priority: opts.priority } : {}) };
    const { route } = params;
    // One branch per kind, so each spec's params are typed by its own kind.
    const spec: JobSpec<RoutedKind> =
      req.kind === 'boltz2'
        ? { ...base, kind: req.kind, params: { request: req, route }, input: req }
        : req.kind === 'boltz2-batch'
          ? { ...base, kind: req.kind, params: { request: req, route }, input: req }
          : req.kind === 'generate'
            ? { ...base, kind: req.kind, params: { request: req, route }, input: req }
            : { ...base, kind: req.kind, params: { request: req, route }, input: req };
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
  static readonly KINDS = ['boltz2', 'boltz2-batch', 'generate', 'embed-remote', 'warmup'] as const satisfies readonly CloudJobKind[];

  /** The runners of every cloud job kind, by kind (a host registers them so retry, resume and adopt work there). */
  runners(): { [K in CloudJobKind]: JobRunFn<K> } {
    return {
      boltz2: (run) => this.runBoltz2(run),
      'boltz2-batch': (run) => this.runBatch(run),
      generate: (run) => this.runGenerate(run),
      'embed-remote': (run) => this.runEmbedRemote(run),
      warmup: (run) => this.runWarmup(run),
    };
  }

  /** Register the runners of every cloud job kind (so retry, resume and adopt work in any host). */
  registerRunners(runners: JobRunners): void {
    runners.addAll(this.runners());
  }

  // --- runners ---

  private async runBoltz2(run: JobRunContext<'boltz2'>): Promise<JobResultInput<'boltz2'>> {
    const { request: req, route } = paramsOf(run.job);
    if (req.kind !== 'boltz2' || run.job.backend === 'local') throw new TandemError('INVALID_ARGUMENT', `${req.kind} jobs cannot run locally`);
    const c = await this.callSync(run, req, route.reason);
    const r = c.result as Boltz2Prediction;
    return { answeredBy: c.answered, timings: c.timings, ...this.writePrediction(c.files, req.name, r), confidence: r.confidence, affinity: r.affinity };
  }

  private async runGenerate(run: JobRunContext<'generate'>): Promise<JobResultInput<'generate'>> {
    const { request: req, route } = paramsOf(run.job);
    if (req.kind !== 'generate') throw new TandemError('INVALID_ARGUMENT', `job ${run.job.id} is not a generate request`);
    if (run.job.backend === 'local') return this.runLocalGenerate(run, req);
    const c = await this.callSync(run, req, route.reason);
    const r = c.result as GenerateResult;
    const check = validateJsonAgainstSchema(req.schema, r.output);
    if (!check.ok) {
      c.files.writeJson('output.invalid.json', r.output);
      throw new TandemError('BACKEND_ERROR', `${c.backend} returned output that does not match the request's JSON Schema: ${check.errors}`);
    }
    const output = c.files.writeJson('output.json', r.output);
    return { answeredBy: c.answered, timings: c.timings, files: { output }, output: r.output, usage: r.usage };
  }

  private async runEmbedRemote(run: JobRunContext<'embed-remote'>): Promise<JobResultInput<'embed-remote'>> {
    const { request: req, route } = paramsOf(run.job);
    if (req.kind !== 'embed-remote') throw new TandemError('INVALID_ARGUMENT', `job ${run.job.id} is not an embed-remote request`);
    if (run.job.backend === 'local') return this.runLocalEmbed(run, req);
    const c = await this.callSync(run, req, route.reason);
    const r = c.result as EmbedRemoteResult;
    return { answeredBy: c.answered, timings: c.timings, ...this.writeEmbeddings(c.files, r.embeddings.length, r.dim, flatten(r.embeddings, r.dim), REMOTE_EMBED_MODEL) };
  }

  /** One synchronous call of a remote function (boltz2, generate, embed-remote): its result, who answered and how long it took. */
  private async callSync(run: JobRunContext<RoutedKind>, req: CloudRequest, reason: string) {
    const backend = run.job.backend as BackendId;
    const wait = this.tracker(run, backend, req);
    let out: SubmitOutcome;
    try {
      const { adapter, fn, release } = await this.enter(run, backend, req, wait);
      wait?.callStarted();
      out = await this.call(backend, () => adapter.submit(req, { signal: run.signal, idempotencyKey: run.job.id, deadlineMs: fn.timeoutS * 1000, ...(wait ? { onPhase: wait.onPhase } : {}) }), release);
    } finally {
      wait?.stop();
    }
    const adapter = this.adapter(backend);
    const fn = adapter.functionFor(req);
    this.breakers.recordSuccess(backend);
    this.markSeen(backend, out.function);
    if (out.state !== 'done') throw new TandemError('BACKEND_ERROR', `${backend} ${fn.name} accepted a synchronous ${req.kind} job as async (remote id ${out.remoteId})`);
    const t = out.timings;
    this.recordRun(run, backend, fn, t);
    const files = new ResultFiles(this.config().home, run.job.id);
    const answered = { backend, function: out.function, gpu: `${fn.gpu.count}x ${fn.gpu.type}`, reason, model: askedModel(req), where: `${backend} ${fn.gpu.count}x ${fn.gpu.type}`, substitutedFor: null };
    const timings = { totalMs: t.totalMs, ttfbMs: t.ttfbMs, coldStart: t.coldStart, modelLoadMs: t.modelLoadMs, inferenceMs: t.inferenceMs, transferMs: t.transferMs, attempts: t.attempts };
    return { result: out.result, backend, files, answered, timings };
  }

  private async runBatch(run: JobRunContext<'boltz2-batch'>): Promise<JobResultInput<'boltz2-batch'>> {
    const { request: req, route } = paramsOf(run.job);
    if (req.kind !== 'boltz2-batch') throw new TandemError('INVALID_ARGUMENT', `job ${run.job.id} is not a boltz2-batch request`);
    const backend = run.job.backend as BackendId;
    const files = new ResultFiles(this.config().home, run.job.id);
    const { adapter, fn, release } = await this.enter(run, backend, req);
    this.markSeen(backend, fn.name);
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
          return { answeredBy: { backend, function: fn.name, gpu: `${fn.gpu.count}x ${fn.gpu.type}`, reason: route.reason }, remoteId: id, total: p.total, ligands: [...written.values()] };
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
  private async runBatchPerLigand(run: JobRunContext<'boltz2-batch'>, adapter: CloudAdapter, fn: FunctionCapability, req: Boltz2BatchRequest, files: ResultFiles, reason: string): Promise<JobResultInput<'boltz2-batch'>> {
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
      const wait = this.tracker(run, backend, one);
      let out: SubmitOutcome;
      try {
        const release = await this.acquireSlot(backend, fn, run.signal, wait);
        wait?.callStarted();
        out = await this.call(backend, () => adapter.submit(one, { signal: run.signal, idempotencyKey: `${run.job.id}:${lig.id}`, deadlineMs: fn.timeoutS * 1000, ...(wait ? { onPhase: wait.onPhase } : {}) }), release);
      } finally {
        wait?.stop();
      }
      this.breakers.recordSuccess(backend);
      this.markSeen(backend, fn.name);
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
    return { answeredBy: { backend, function: fn.name, gpu: `${fn.gpu.count}x ${fn.gpu.type}`, reason }, total, ligands };
  }

  private async runWarmup(run: JobRunContext<'warmup'>): Promise<JobResultInput<'warmup'>> {
    const backend = run.job.backend as BackendId;
    const adapter = this.adapter(backend);
    const fnName = run.job.params.function ?? undefined;
    const target = warmedFunction(adapter, fnName ?? (backend === 'modal' ? 'warmup' : 'health'));
    const subject = target.kinds.includes('generate') ? (target.name === 'generate' ? 'qwen-32b' : target.name.replace(/-generate$/, '')) : target.kinds.includes('embed-remote') ? 'instructor-xl' : 'Boltz-2';
    const wait = this.deps.onWait ? this.newTracker(run, backend, target, subject) : null;
    let w: WarmupResult;
    try {
      wait?.callStarted();
      w = await this.call(backend, () => adapter.warmup({ signal: run.signal, ...(fnName ? { function: fnName } : {}), ...(wait ? { onPhase: wait.onPhase } : {}) }));
    } finally {
      wait?.stop();
    }
    this.breakers.recordSuccess(backend);
    const fn = warmedFunction(adapter, w.function);
    this.markSeen(backend, fn.name);
    run.setDevice(`${backend} ${fn.gpu.count}x ${fn.gpu.type}`);
    run.setTimings({ loadMs: w.modelLoadMs, transferMs: Math.max(0, w.totalMs - w.modelLoadMs) });
    run.setCostUsd(costUsd(fn.gpu, w.modelLoadMs / 1000, this.config().prices, backend));
    return { ...w };
  }

  private async runLocalGenerate(run: JobRunContext<'generate'>, req: GenerateRequest): Promise<JobResultInput<'generate'>> {
    const gen = this.deps.localGenerate;
    if (!gen) throw new TandemError('DEVICE_UNAVAILABLE', 'this host has no local generation engine');
    const model = this.config().localGenerateModel;
    let streamed = 0;
    const r = await gen(
      // Lenient, as the cloud backends are: the output is validated against the request's schema below either way.
      { model, prompt: req.prompt, schema: req.schema, lenient: true, ...(req.maxTokens ? { maxTokens: req.maxTokens } : {}), ...(req.temperature !== undefined ? { temperature: req.temperature } : {}) },
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
    return { answeredBy: { backend: 'local', model: r.model, device: r.device, reason: route.reason, where: 'this machine', substitutedFor: r.model === req.model ? null : req.model }, files: { output }, output: r.output as JsonValue, text: r.text, usage: r.usage as JsonValue };
  }

  private async runLocalEmbed(run: JobRunContext<'embed-remote'>, req: EmbedRemoteRequest): Promise<JobResultInput<'embed-remote'>> {
    const embed = this.deps.localEmbed;
    if (!embed) throw new TandemError('DEVICE_UNAVAILABLE', 'this host has no local embedding engine');
    const model = this.localModel('embed').model;
    const texts = req.instruction ? req.texts.map((t) => `${req.instruction} ${t}`) : req.texts;
    const r = await embed(texts, { model, signal: run.signal, onProgress: (d, t) => run.progress(d, t) });
    run.setDevice(r.device);
    run.setTimings({ loadMs: r.loadMs, inferenceMs: r.inferenceMs });
    const { route } = paramsOf(run.job);
    const files = new ResultFiles(this.config().home, run.job.id);
    return { answeredBy: { backend: 'local', model: r.model, device: r.device, reason: route.reason, where: 'this machine', substitutedFor: r.model === REMOTE_EMBED_MODEL ? null : REMOTE_EMBED_MODEL }, ...this.writeEmbeddings(files, texts.length, r.dims, r.vectors, r.model) };
  }

  // --- helpers ---

  /** Breaker check (a recorded failure when open), budget check, then a concurrency slot. */
  private async enter(run: JobRunContext, backend: BackendId, req: CloudRequest, wait?: WaitTracker | null): Promise<{ adapter: CloudAdapter; fn: FunctionCapability; release: () => void }> {
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
      const e = this.estimates(adapter, req);
      const budget = checkBudget(this.deps.db, cfg.budget, e[e.assumed].usd, this.now());
      if (budget && !budget.ok) {
        if (budget.action === 'block') throw new TandemError('BUDGET_EXCEEDED', budget.message);
        run.note(`budget warning: ${budget.message}`);
      }
    }
    const release = await this.acquireSlot(backend, fn, run.signal, wait ?? null);
    return { adapter, fn, release };
  }

  /** A concurrency slot of the function; while none is free, the wait line says queued. */
  private acquireSlot(backend: BackendId, fn: FunctionCapability, signal: AbortSignal, wait: WaitTracker | null): Promise<() => void> {
    const key = `${backend}:${fn.name}`;
    const snap = this.limiter.snapshot()[key];
    const cap = this.capFor(key);
    if (wait && snap && snap.inFlight >= cap) wait.queued(snap.inFlight, cap);
    return this.limiter.acquire(key, signal);
  }

  /** Remember that a function answered now (estimates after it assume warm within its scale-down window). */
  private markSeen(backend: BackendId, fnName: string): void {
    this.seen.set(`${backend}:${fnName}`, this.now());
  }

  /** Between two status lines: the host's, else TANDEM_CLOUD_STATUS_MS, else 5 s. */
  private statusIntervalMs(): number {
    const v = Number(this.deps.env.TANDEM_CLOUD_STATUS_MS);
    return this.deps.statusIntervalMs ?? (Number.isFinite(v) && v >= 50 ? v : 5000);
  }

  /** A wait tracker for one remote call of a job (null when the host does not listen). */
  private tracker(run: JobRunContext, backend: BackendId, req: CloudRequest): WaitTracker | null {
    if (!this.deps.onWait) return null;
    const fn = this.adapter(backend).functionFor(req);
    return this.newTracker(run, backend, fn, subjectOf(req));
  }

  private newTracker(run: JobRunContext, backend: BackendId, fn: FunctionCapability, subject: string): WaitTracker {
    const onWait = this.deps.onWait!;
    return new WaitTracker({ jobId: run.job.id, backend, fn, subject, expected: this.warmth(backend, fn).assumed, emit: onWait, intervalMs: this.statusIntervalMs() });
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

  private writeEmbeddings(files: ResultFiles, count: number, dims: number, vectors: Float32Array, model: string): { model: string; count: number; dims: number; files: { embeddings: string; meta: string } } {
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
