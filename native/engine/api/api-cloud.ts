/**
 * The cloud methods of the API (contract/cloud.ts) over a CloudService: configuration, health,
 * warm-up jobs, costs and budget, routing, prices, validation, plan and submit, and result files.
 * Remote jobs are recorded and run in the API service's own queue (so they get live job.updated /
 * job.event events, retry and resume like every other job).
 */
import fs from 'node:fs';
import path from 'node:path';
import { CLOUD_RUN_FUNCTIONS } from '../../../cloud-adapters/cloud-run/cloud-run-adapter.js';
import type { BackendId, CloudRequest, CostEstimate, FunctionCapability } from '../../../cloud-adapters/contract.js';
import { MODAL_FUNCTIONS } from '../../../cloud-adapters/modal/modal-adapter.js';
import { compileSchema, validateJsonAgainstSchema } from '../../../cloud-adapters/validate.js';
import { DEFAULT_PRICES } from '../../../cloud-adapters/prices.js';
import { readSettings, redactedConfig, updateProfileSettings, writeSettings, type Policy, type ProfileName, type ProfileSettings } from '../cloud/cloud-config.js';
import { CloudService, type CloudServiceDeps, type LocalGenerator, type RoutePlan } from '../cloud/cloud-service.js';
import { computeAlerts, monthSpend } from '../cloud/costs.js';
import type { CLOUD_API_METHODS } from '../common/contract/cloud.js';
import type { ApiOutput, ApiParsedInput } from '../common/api-contract.js';
import { boltzFieldErrors, generateFieldErrors, ligandWarnings, toFieldError, validateEmbedRemote, type FieldError } from '../common/boltz-validate.js';
import { ensureChemFor } from '../node/chem-toolkit.js';
import { TandemError, toWire } from '../common/errors.js';
import type { EmbedClient } from '../inference/embed-client.js';
import type { JobHandle, JobQueue } from '../jobs/job-queue.js';
import type { JobStore } from '../jobs/job-store.js';
import type { Db } from '../store/database.js';
import { localEmbedder } from '../cloud/local-engines.js';

export type CloudMethod = keyof typeof CLOUD_API_METHODS;
export type CloudHandlers = { [M in CloudMethod]: (input: ApiParsedInput<M>) => Promise<ApiOutput<M>> | ApiOutput<M> };

/** CloudService settings a host may pass (tests shrink timeouts; Electron supplies tokens from the keychain). */
export type ApiCloudOptions = Partial<Omit<CloudServiceDeps, 'env' | 'db' | 'store'>>;

/** Result files larger than this are not sent to the UI. */
export const MAX_RESULT_READ_BYTES = 32 * 1024 * 1024;
/** A health probe from the UI gives up after this. */
export const HEALTH_TIMEOUT_MS = 20_000;

/** What each Warm up button calls: one function per model family. */
export const WARMUP_TARGETS: ReadonlyArray<{ backend: BackendId; function: string; label: string }> = [
  { backend: 'modal', function: 'warmup', label: 'Qwen 32B (A100-80GB)' },
  { backend: 'modal', function: 'qwen-80b-warmup', label: 'Qwen 80B (2x H100)' },
  { backend: 'modal', function: 'qwen-480b-warmup', label: 'Qwen 480B (8x H100)' },
  { backend: 'modal', function: 'embed-warmup', label: 'instructor-xl embeddings (A10G)' },
  { backend: 'cloud-run', function: 'health', label: 'Boltz-2 service (L4)' },
];

/**
 * The cloud service of an API host: the host's store and database, local embeddings through its
 * embedding worker, and (when given) local generation as the fallback for generate jobs, whose
 * streamed text goes to `onStream`.
 */
export function openApiCloud(deps: {
  env: NodeJS.ProcessEnv;
  db: Db;
  store: JobStore;
  client: EmbedClient;
  localGenerate?: LocalGenerator;
  onStream?: (jobId: string, text: string) => void;
  options?: ApiCloudOptions;
}): CloudService {
  return new CloudService({
    env: deps.env,
    db: deps.db,
    store: deps.store,
    localEmbed: localEmbedder(deps.client),
    ...(deps.localGenerate ? { localGenerate: deps.localGenerate } : {}),
    ...(deps.onStream ? { onStream: deps.onStream } : {}),
    ...deps.options,
  });
}

function functionRows(cloud?: CloudService): ApiOutput<'cloud.config'>['functions'] {
  const warm = (backend: BackendId, f: FunctionCapability) => {
    if (!cloud) return {};
    try {
      return { scaledownS: cloud.scaledownS(backend, f), warm: cloud.warmth(backend, f) };
    } catch {
      return {};
    }
  };
  const row = (backend: BackendId) => (f: FunctionCapability) => ({
    ...warm(backend, f),
    backend,
    name: f.name,
    kinds: [...f.kinds],
    gpu: { ...f.gpu },
    maxConcurrency: f.maxConcurrency,
    timeoutS: f.timeoutS,
    coldStartS: f.coldStartS,
    typicalGpuS: f.typicalGpuS,
  });
  return [...MODAL_FUNCTIONS.map(row('modal')), ...CLOUD_RUN_FUNCTIONS.map(row('cloud-run'))];
}

function planOut(p: RoutePlan): ApiOutput<'cloud.plan'>['plan'] {
  return {
    kind: p.kind,
    policy: p.policy,
    backend: p.backend,
    reason: p.reason,
    function: p.function,
    estimate: p.estimate ? estimateOut(p.estimate) : null,
    estimates: p.estimates ? { cold: estimateOut(p.estimates.cold), warm: estimateOut(p.estimates.warm), assumed: p.estimates.assumed, why: p.estimates.why } : null,
    budget: p.budget ? { ...p.budget } : null,
    answeredBy: p.answeredBy ? { ...p.answeredBy } : null,
  };
}

function estimateOut(e: CostEstimate): ApiOutput<'cloud.plan'>['plan']['estimate'] & object {
  return { usd: e.usd, gpu: { ...e.gpu }, gpuSeconds: e.gpuSeconds, ratePerGpuHour: e.ratePerGpuHour, basis: e.basis };
}

/** Every problem of a (possibly incomplete) request, by field. */
export function requestFieldErrors(req: Record<string, unknown>): FieldError[] {
  switch (req.kind) {
    case 'boltz2':
      return boltzFieldErrors(req);
    case 'boltz2-batch':
      return boltzFieldErrors(req, { batch: true });
    case 'generate': {
      const errors = generateFieldErrors(req);
      if (!errors.some((e) => e.field.startsWith('schema'))) {
        const compiled = compileSchema(req.schema);
        if (!compiled.ok) errors.push({ field: 'schema', message: compiled.errors });
      }
      return errors;
    }
    case 'embed-remote':
      try {
        validateEmbedRemote({ texts: req.texts as string[], ...(req.instruction !== undefined ? { instruction: req.instruction as string } : {}) });
        return [];
      } catch (e) {
        return [toFieldError(e, 'texts')];
      }
    default:
      return [{ field: 'kind', message: `must be one of boltz2, boltz2-batch, generate, embed-remote, got ${JSON.stringify(req.kind ?? null)}` }];
  }
}

/**
 * A result file of a job, only under $TANDEM_HOME/results/<jobId>/ (symlinks resolved): `file` is
 * a path from the job's result or a name relative to that folder.
 */
export function readResultFile(home: string, jobId: string, file: string, maxBytes = MAX_RESULT_READ_BYTES): { path: string; text: string; bytes: number } {
  const dir = path.resolve(home, 'results', jobId);
  const target = path.isAbsolute(file) ? path.resolve(file) : path.resolve(dir, file);
  const outside = () => new TandemError('INVALID_ARGUMENT', `results.read: ${JSON.stringify(file)} is not a result file of job ${jobId} (only files under its results folder can be read)`);
  if (!target.startsWith(dir + path.sep)) throw outside();
  let real: string;
  let realDir: string;
  try {
    realDir = fs.realpathSync(dir);
    real = fs.realpathSync(target);
  } catch {
    throw new TandemError('NOT_FOUND', `results.read: job ${jobId} has no result file ${path.relative(dir, target)}`);
  }
  if (!real.startsWith(realDir + path.sep)) throw outside();
  const st = fs.statSync(real);
  if (!st.isFile()) throw new TandemError('INVALID_ARGUMENT', `results.read: ${path.relative(dir, target)} is not a file`);
  if (st.size > maxBytes) throw new TandemError('INVALID_ARGUMENT', `results.read: ${path.relative(dir, target)} is ${st.size} bytes (at most ${maxBytes} are sent to the UI); open it from ${real}`);
  const buf = fs.readFileSync(real);
  if (buf.includes(0)) throw new TandemError('INVALID_ARGUMENT', `results.read: ${path.relative(dir, target)} is a binary file, not text`);
  return { path: real, text: buf.toString('utf8'), bytes: buf.length };
}

/** A backend URL a user typed: http(s), and for Modal a template with {function}. */
export function checkBackendUrl(url: string, modal: boolean): void {
  const what = modal ? 'Modal URL template' : 'Cloud Run URL';
  let u: URL;
  try {
    u = new URL(url.replace('{function}', 'function'));
  } catch {
    throw new TandemError('INVALID_ARGUMENT', `${what}: ${JSON.stringify(url)} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TandemError('INVALID_ARGUMENT', `${what}: ${JSON.stringify(url)} is not http(s)`);
  if (modal && !url.includes('{function}')) throw new TandemError('INVALID_ARGUMENT', `${what}: ${JSON.stringify(url)} has no {function} placeholder (e.g. https://workspace--app-{function}.modal.run)`);
}

export interface CloudHandlerDeps {
  cloud: CloudService;
  db: Db;
  store: JobStore;
  queue: JobQueue;
  /** Called with every job started here (the service tracks it and publishes its events). */
  started(handle: JobHandle): void;
}

export function createCloudHandlers(deps: CloudHandlerDeps): CloudHandlers {
  const { cloud, db, store, queue } = deps;
  const home = () => cloud.config().home;
  const updateSettings = (change: (s: ReturnType<typeof readSettings>) => ReturnType<typeof readSettings>): void => {
    writeSettings(home(), change(readSettings(home())));
    cloud.reload();
  };
  /** Change the active profile in cloud.json (atomic, other fields kept) and reload: the next plan uses it. */
  const updateProfile = (change: (p: ProfileSettings, top: ReturnType<typeof readSettings>) => ProfileSettings): ProfileName => {
    const profile = cloud.config().profile;
    try {
      updateProfileSettings(home(), profile, change);
    } finally {
      cloud.reload();
    }
    return profile;
  };
  const prices = () => {
    const p = cloud.config().prices;
    return { modal: { ...p.modal }, 'cloud-run': { ...p['cloud-run'] } };
  };

  return {
    'cloud.config': () => {
      const c = redactedConfig(cloud.config());
      return {
        profile: c.profile,
        settingsPath: c.settingsPath,
        sources: { ...c.sources },
        modal: { ...c.modal },
        cloudRun: { ...c.cloudRun },
        routing: { ...c.routing },
        budget: c.budget ? { ...c.budget } : null,
        prices: { modal: { ...c.prices.modal }, 'cloud-run': { ...c.prices['cloud-run'] } },
        defaultPrices: { modal: { ...DEFAULT_PRICES.modal }, 'cloud-run': { ...DEFAULT_PRICES['cloud-run'] } },
        alertThresholds: { ...c.alertThresholds },
        localEmbedModel: c.localEmbedModel,
        functions: functionRows(cloud),
        warmups: WARMUP_TARGETS.map((w) => ({ ...w })),
        breakers: (['modal', 'cloud-run'] as const).map((b) => {
          const s = cloud.breakers.status(b);
          return { backend: b, state: s.state, consecutiveFailures: s.consecutiveFailures, lastError: s.lastError };
        }),
      };
    },

    'cloud.health': async ({ backend, function: fn }) => {
      const backends: BackendId[] = backend ? [backend] : ['modal', 'cloud-run'];
      const rows = await Promise.all(
        backends.map(async (b): Promise<ApiOutput<'cloud.health'>['backends'][number]> => {
          try {
            const h = await cloud.health(b, b === 'modal' ? fn : undefined, AbortSignal.timeout(HEALTH_TIMEOUT_MS));
            return { backend: b, ok: h.ok, function: h.function, status: h.status, model: h.model, gpu: h.gpu, latencyMs: h.latencyMs, error: null };
          } catch (e) {
            const w = toWire(e);
            return { backend: b, ok: false, function: null, status: null, model: null, gpu: null, latencyMs: null, error: { code: w.code, message: w.message } };
          }
        }),
      );
      return { backends: rows };
    },

    'cloud.warmup': ({ backend, function: fn }) => {
      cloud.adapter(backend); // NOT_CONFIGURED naming the setting at once, not as a failed job
      const handle = cloud.warmupJob(queue, backend, backend === 'modal' ? fn : undefined);
      deps.started(handle);
      return { jobId: handle.id };
    },

    'cloud.costs': () => {
      const c = cloud.config();
      const m = monthSpend(db);
      return {
        month: { ...m, byKindBackend: m.byKindBackend.map((r) => ({ ...r })) },
        budget: c.budget ? { ...c.budget } : null,
        prices: { modal: { ...c.prices.modal }, 'cloud-run': { ...c.prices['cloud-run'] } },
        alerts: computeAlerts(db, { budget: c.budget, thresholds: c.alertThresholds }).map((a) => ({ ...a })),
      };
    },

    'cloud.setBudget': ({ monthlyUsd, action }) => {
      const profile = updateProfile((p, top) => {
        // Removing: none for this profile, even over a top-level budget shared by every profile.
        if (monthlyUsd === null) return { ...p, budget: top.budget ? null : undefined };
        return { ...p, budget: { monthlyUsd, action } };
      });
      return { profile, budget: cloud.config().budget };
    },

    'cloud.setRoute': ({ kind, policy }) => {
      const profile = updateProfile((p) => ({ ...p, routing: { ...(p.routing ?? {}), [kind]: policy } }));
      return { profile, routing: { ...cloud.config().routing } };
    },

    'cloud.setAlerts': (input) => {
      const profile = updateProfile((p) => {
        const alerts: NonNullable<ProfileSettings['alerts']> = { ...(p.alerts ?? {}) };
        for (const key of ['costAnomaly', 'errorRate', 'slowdown'] as const) {
          const v = input[key];
          if (v === null) delete alerts[key];
          else if (v !== undefined) alerts[key] = v;
        }
        return { ...p, alerts: Object.keys(alerts).length ? alerts : undefined };
      });
      return { profile, alertThresholds: { ...cloud.config().alertThresholds } };
    },

    'cloud.setBackend': ({ backend, url, tokenEnv }) => {
      const modal = backend === 'modal';
      if (url !== null) checkBackendUrl(url, modal);
      const profile = cloud.config().profile as ProfileName;
      updateSettings((s) => {
        const prof = { ...(s.profiles?.[profile] ?? {}) };
        const key = modal ? 'modal' : 'cloudRun';
        const cur: { url?: string; urlTemplate?: string; tokenEnv?: string } = { ...(prof[key] ?? {}) };
        const urlKey = modal ? 'urlTemplate' : 'url';
        if (url === null) delete cur[urlKey];
        else cur[urlKey] = url;
        if (tokenEnv !== undefined) cur.tokenEnv = tokenEnv;
        const next = { ...prof, [key]: cur };
        if (Object.keys(cur).length === 0) delete next[key];
        return { ...s, profiles: { ...(s.profiles ?? {}), [profile]: next } };
      });
      const c = redactedConfig(cloud.config());
      const b = modal ? { url: c.modal.urlTemplate, tokenEnv: c.modal.tokenEnv, hasToken: c.modal.hasToken } : { url: c.cloudRun.url, tokenEnv: c.cloudRun.tokenEnv, hasToken: c.cloudRun.hasToken };
      const source = c.sources[modal ? 'modalUrl' : 'cloudRunUrl'] ?? null;
      return { profile: c.profile, ...b, source, overriddenBy: source !== null && !source.startsWith(c.settingsPath) ? source : null };
    },

    'cloud.setPrice': ({ backend, gpu, rate }) => {
      const profile = updateProfile((p) => {
        const table: Record<string, number> = { ...(p.prices?.[backend] ?? {}) };
        if (rate === null) delete table[gpu];
        else table[gpu] = rate;
        const next = { ...(p.prices ?? {}), [backend]: table };
        if (Object.keys(table).length === 0) delete next[backend];
        return { ...p, prices: Object.keys(next).length ? next : undefined };
      });
      return { profile, prices: prices() };
    },

    'cloud.validate': async ({ request, output }) => {
      await ensureChemFor(request); // ligand SMILES parsed by RDKit, not only the rough syntax check
      const errors = requestFieldErrors(request);
      const warnings = request.kind === 'boltz2' || request.kind === 'boltz2-batch' ? ligandWarnings(request.ligands, { affinity: request.affinity === true }) : [];
      let out: ApiOutput<'cloud.validate'>['output'] = null;
      if (output !== undefined && request.kind === 'generate') {
        const r = validateJsonAgainstSchema(request.schema, output);
        out = r.ok ? { ok: true, errors: null } : { ok: false, errors: r.errors };
      }
      return { ok: errors.length === 0, errors, warnings, output: out };
    },

    'cloud.plan': async ({ request, policy }) => {
      await ensureChemFor(request);
      // Generation under auto: probe Modal's health first, so the plan says whether the local model answers.
      await cloud.checkRoute(request as CloudRequest, policy as Policy | undefined);
      return { plan: planOut(cloud.plan(request as CloudRequest, policy as Policy | undefined)) };
    },

    'cloud.submit': async ({ request, policy, priority, detached }) => {
      await ensureChemFor(request); // nothing is recorded or sent before RDKit has read every ligand
      await cloud.checkRoute(request as CloudRequest, policy as Policy | undefined);
      const opts = { ...(policy ? { policy } : {}), ...(priority !== undefined ? { priority } : {}) };
      if (detached) {
        // Recorded only: a host that runs its kind resumes it (the CLI starts `tandem jobs resume ID` in the background).
        const { spec, plan } = cloud.prepare(request as CloudRequest, opts);
        return { jobId: store.createJob(spec).id, plan: planOut(plan) };
      }
      const { handle, plan } = cloud.submit(queue, request as CloudRequest, opts);
      deps.started(handle);
      return { jobId: handle.id, plan: planOut(plan) };
    },

    'results.read': ({ jobId, file }) => {
      store.get(jobId); // NOT_FOUND for an unknown job
      return readResultFile(home(), jobId, file);
    },
  };
}
