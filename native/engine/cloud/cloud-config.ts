import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { BackendEndpoint, BackendId, PriceTable } from '../../../cloud-adapters/contract.js';
import { DEFAULT_PRICES } from '../../../cloud-adapters/prices.js';
import { TandemError } from '../common/errors.js';
import { tandemHome } from '../node/paths.js';

/**
 * Cloud configuration: profiles (development | staging | production) with backend URLs and token
 * *references*, routing policies, prices and the monthly budget. Read from `$TANDEM_HOME/cloud.json`,
 * then env vars, then CLI flags (each over the one before). Tokens are never stored here: a profile
 * names the env var that holds its token (default TANDEM_MODAL_TOKEN / TANDEM_CLOUDRUN_TOKEN), and
 * the Electron host can supply them from the OS keychain through `TokenSource`.
 */

export const PROFILES = ['development', 'staging', 'production'] as const;
export type ProfileName = (typeof PROFILES)[number];

export const ROUTED_KINDS = ['embed-remote', 'generate', 'boltz2', 'boltz2-batch'] as const;
export type RoutedKind = (typeof ROUTED_KINDS)[number];
export const POLICIES = ['auto', 'local', 'modal', 'cloud-run'] as const;
export type Policy = (typeof POLICIES)[number];

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');
const url = z.string().url();

const routingSchema = z.partialRecord(z.enum(ROUTED_KINDS), z.enum(POLICIES));
const priceRate = z.number().positive().max(1000);
const pricesSchema = z.object({ modal: z.record(z.string(), priceRate).optional(), 'cloud-run': z.record(z.string(), priceRate).optional() }).strict();
const budgetSchema = z.object({ monthlyUsd: z.number().nonnegative(), action: z.enum(['warn', 'block']) }).strict();
/** The alert rules' thresholds as fractions (0.2 = +20 %), over DEFAULT_ALERT_THRESHOLDS. */
const alertsSchema = z
  .object({ costAnomaly: z.number().positive().max(10).optional(), errorRate: z.number().positive().max(1).optional(), slowdown: z.number().positive().max(10).optional() })
  .strict();

/**
 * One profile: its backends, and optionally its own routing, prices, budget and alert thresholds
 * (each over the top-level ones shared by every profile; `budget: null` means no budget here even
 * when a top-level one is set). The Cloud page and `tandem cloud route|budget|prices` write these.
 */
const profileSchema = z
  .object({
    modal: z.object({ urlTemplate: url.optional(), tokenEnv: envName.optional() }).strict().optional(),
    cloudRun: z.object({ url: url.optional(), tokenEnv: envName.optional() }).strict().optional(),
    routing: routingSchema.optional(),
    prices: pricesSchema.optional(),
    budget: budgetSchema.nullable().optional(),
    alerts: alertsSchema.optional(),
  })
  .strict();

export type ProfileSettings = z.infer<typeof profileSchema>;
export type AlertThresholdSettings = Required<z.infer<typeof alertsSchema>>;
/** The seed's alert rules: cost per job +20 %, error rate 1 %, median run time 10 % slower. */
export const DEFAULT_ALERT_THRESHOLDS: AlertThresholdSettings = { costAnomaly: 0.2, errorRate: 0.01, slowdown: 0.1 };

const settingsSchema = z
  .object({
    profile: z.enum(PROFILES).optional(),
    profiles: z.partialRecord(z.enum(PROFILES), profileSchema).optional(),
    routing: routingSchema.optional(),
    prices: pricesSchema.optional(),
    budget: budgetSchema.optional(),
    alerts: alertsSchema.optional(),
    /** Max requests in flight per function, below the backend's own limit (e.g. {"modal:generate": 4}). */
    concurrency: z.record(z.string().regex(/^(modal|cloud-run):[\w-]+$/), z.number().int().positive()).optional(),
    /** Largest response body per function, MiB (e.g. {"cloud-run:predict": 512, "modal:default": 32}); built-in 64, Boltz-2 256. */
    maxResponseMiB: z.record(z.string().regex(/^(modal|cloud-run):[\w-]+$/), z.number().positive().max(511)).optional(),
    /** Scale-down window per function, seconds, over the built-in table (e.g. {"modal:qwen-80b-generate": 300}): a function seen answering within it is estimated warm. */
    scaledownS: z.record(z.string().regex(/^(modal|cloud-run):[\w-]+$/), z.number().nonnegative().max(86_400)).optional(),
    /** Local model that answers embed-remote jobs routed (or fallen back) to local. */
    localEmbedModel: z.string().min(1).optional(),
    /** Local model that answers generate jobs routed (or fallen back) to local. */
    localGenerateModel: z.string().min(1).optional(),
  })
  .strict();

export type CloudSettings = z.infer<typeof settingsSchema>;

export interface CloudFlags {
  profile?: string;
  modalUrl?: string;
  cloudRunUrl?: string;
}

/** Supplies a backend's token from outside the settings file (env, or the OS keychain in Electron). */
export type TokenSource = (backend: BackendId, profile: ProfileName, envVar: string) => string | undefined;

export const envTokenSource =
  (env: NodeJS.ProcessEnv): TokenSource =>
  (_b, _p, envVar) =>
    env[envVar]?.trim() || undefined;

export interface ResolvedCloudConfig {
  home: string;
  settingsPath: string;
  profile: ProfileName;
  /** Where each value came from, for `tandem cloud config` (never the token itself). */
  sources: Record<string, string>;
  modal: { urlTemplate: string | null; tokenEnv: string; hasToken: boolean };
  cloudRun: { url: string | null; tokenEnv: string; hasToken: boolean };
  routing: Record<RoutedKind, Policy>;
  prices: PriceTable;
  budget: { monthlyUsd: number; action: 'warn' | 'block' } | null;
  /** The alert rules' thresholds (fractions), defaults < top-level `alerts` < the profile's. */
  alertThresholds: AlertThresholdSettings;
  concurrency: Record<string, number>;
  /** Response caps from the settings, MiB, keyed `backend:function` (or `backend:default`). */
  maxResponseMiB: Record<string, number>;
  /** Scale-down windows from the settings, seconds, keyed `backend:function` (over the functions' own). */
  scaledownS: Record<string, number>;
  localEmbedModel: string;
  localGenerateModel: string;
}

/**
 * Per job kind: `auto` runs locally when this machine can do the job (embeddings), else on the
 * kind's default backend (DEFAULT_REMOTE); `modal` / `cloud-run` pin a backend (the one switch that
 * moves a kind between them); `local` never leaves the machine.
 */
export const DEFAULT_ROUTING: Record<RoutedKind, Policy> = { 'embed-remote': 'modal', generate: 'auto', boltz2: 'auto', 'boltz2-batch': 'auto' };
export const DEFAULT_REMOTE: Record<RoutedKind, BackendId> = { 'embed-remote': 'modal', generate: 'modal', boltz2: 'cloud-run', 'boltz2-batch': 'cloud-run' };
export const DEFAULT_LOCAL_EMBED_MODEL = 'Xenova/all-MiniLM-L6-v2';
export const DEFAULT_LOCAL_GENERATE_MODEL = 'onnx-community/Qwen2.5-0.5B-Instruct';

/** `TANDEM_CLOUD_POLL_MS`: ms between polls of a remote batch, and the least between 303 polls (undefined when unset or below 10). */
export function pollIntervalFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const v = env.TANDEM_CLOUD_POLL_MS?.trim();
  if (!v) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 10 ? n : undefined;
}

export function settingsPath(home: string): string {
  return path.join(home, 'cloud.json');
}

/**
 * A URL fit to print: user-info becomes `***@` and every query (and fragment) value `***`, since
 * a backend URL may carry a password or a signed token (`?token=...`, `?sig=...`). Plain string
 * work, so templates such as `https://ws--app-{function}.modal.run` survive unchanged.
 */
export function redactUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(url);
  if (!m) return url;
  const [, scheme, authority = '', rest = '', query, fragment] = m;
  const at = authority.lastIndexOf('@');
  const host = at >= 0 ? `***@${authority.slice(at + 1)}` : authority;
  const values = (s: string): string =>
    s
      .split('&')
      .map((kv) => (kv.includes('=') ? `${kv.slice(0, kv.indexOf('='))}=***` : kv ? '***' : kv))
      .join('&');
  return `${scheme}${host}${rest}${query !== undefined ? `?${values(query.slice(1))}` : ''}${fragment !== undefined ? `#${values(fragment.slice(1))}` : ''}`;
}

/** The config with its backend URLs redacted (redactUrl), for `tandem cloud config` and the Cloud page. */
export function redactedConfig<T extends Pick<ResolvedCloudConfig, 'modal' | 'cloudRun'>>(cfg: T): T {
  return {
    ...cfg,
    modal: { ...cfg.modal, urlTemplate: cfg.modal.urlTemplate === null ? null : redactUrl(cfg.modal.urlTemplate) },
    cloudRun: { ...cfg.cloudRun, url: cfg.cloudRun.url === null ? null : redactUrl(cfg.cloudRun.url) },
  };
}

/** The settings file, validated; {} when absent. A malformed file is an error naming the file and field. */
export function readSettings(home: string): CloudSettings {
  const p = settingsPath(home);
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new TandemError('INVALID_ARGUMENT', `cannot read ${p}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new TandemError('INVALID_ARGUMENT', `${p} is not valid JSON: ${(e as Error).message}`);
  }
  const r = settingsSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new TandemError('INVALID_ARGUMENT', `${p}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data;
}

/** Validate and write the settings file atomically (tmp + rename). */
export function writeSettings(home: string, settings: CloudSettings): void {
  const r = settingsSchema.safeParse(settings);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new TandemError('INVALID_ARGUMENT', `cloud settings: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  fs.mkdirSync(home, { recursive: true });
  const p = settingsPath(home);
  const tmp = `${p}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(r.data, null, 2) + '\n');
  fs.renameSync(tmp, p);
}

/**
 * Change one profile's settings in cloud.json and write it atomically (tmp + rename), keeping every
 * other field; an emptied profile is dropped. What the Cloud page and `tandem cloud route|budget|prices` use.
 */
export function updateProfileSettings(home: string, profile: ProfileName, change: (p: ProfileSettings, top: CloudSettings) => ProfileSettings): ProfileSettings {
  const s = readSettings(home);
  const next = change({ ...(s.profiles?.[profile] ?? {}) }, s);
  for (const k of Object.keys(next) as (keyof ProfileSettings)[]) if (next[k] === undefined) delete next[k];
  const profiles = { ...(s.profiles ?? {}) };
  if (Object.keys(next).length === 0) delete profiles[profile];
  else profiles[profile] = next;
  const { profiles: _old, ...rest } = s;
  writeSettings(home, Object.keys(profiles).length ? { ...rest, profiles } : rest);
  return next;
}

function isProfile(s: string): s is ProfileName {
  return (PROFILES as readonly string[]).includes(s);
}

function checkUrl(value: string, setting: string): string {
  try {
    const u = new URL(value.replace('{function}', 'function'));
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new TandemError('INVALID_ARGUMENT', `${setting} is not an http(s) URL: ${JSON.stringify(value)}`);
  }
  return value;
}

/** Settings file < env vars < flags. Pure in its inputs (env is passed, not read globally). */
export function resolveCloudConfig(env: NodeJS.ProcessEnv, flags: CloudFlags = {}, tokens: TokenSource = envTokenSource(env)): ResolvedCloudConfig {
  const home = tandemHome(env);
  const s = readSettings(home);
  const sources: Record<string, string> = {};
  const sp = settingsPath(home);

  let profile: ProfileName = 'development';
  sources.profile = 'default';
  if (s.profile) [profile, sources.profile] = [s.profile, sp];
  const envProfile = env.TANDEM_PROFILE?.trim();
  if (envProfile) {
    if (!isProfile(envProfile)) throw new TandemError('INVALID_ARGUMENT', `TANDEM_PROFILE must be one of ${PROFILES.join(', ')}, got ${JSON.stringify(envProfile)}`);
    [profile, sources.profile] = [envProfile, 'TANDEM_PROFILE'];
  }
  if (flags.profile) {
    if (!isProfile(flags.profile)) throw new TandemError('INVALID_ARGUMENT', `--profile must be one of ${PROFILES.join(', ')}, got ${JSON.stringify(flags.profile)}`);
    [profile, sources.profile] = [flags.profile, '--profile'];
  }

  const prof = s.profiles?.[profile] ?? {};
  let modalUrl: string | null = prof.modal?.urlTemplate ?? null;
  if (modalUrl) sources.modalUrl = `${sp} (profiles.${profile}.modal.urlTemplate)`;
  if (env.TANDEM_MODAL_URL_TEMPLATE?.trim()) [modalUrl, sources.modalUrl] = [checkUrl(env.TANDEM_MODAL_URL_TEMPLATE.trim(), 'TANDEM_MODAL_URL_TEMPLATE'), 'TANDEM_MODAL_URL_TEMPLATE'];
  if (flags.modalUrl) [modalUrl, sources.modalUrl] = [checkUrl(flags.modalUrl, '--modal-url'), '--modal-url'];

  let runUrl: string | null = prof.cloudRun?.url ?? null;
  if (runUrl) sources.cloudRunUrl = `${sp} (profiles.${profile}.cloudRun.url)`;
  if (env.TANDEM_CLOUDRUN_URL?.trim()) [runUrl, sources.cloudRunUrl] = [checkUrl(env.TANDEM_CLOUDRUN_URL.trim(), 'TANDEM_CLOUDRUN_URL'), 'TANDEM_CLOUDRUN_URL'];
  if (flags.cloudRunUrl) [runUrl, sources.cloudRunUrl] = [checkUrl(flags.cloudRunUrl, '--cloudrun-url'), '--cloudrun-url'];

  const modalTokenEnv = prof.modal?.tokenEnv ?? 'TANDEM_MODAL_TOKEN';
  const runTokenEnv = prof.cloudRun?.tokenEnv ?? 'TANDEM_CLOUDRUN_TOKEN';
  // Routing, prices, budget and alert thresholds: built-in < top-level (every profile) < this profile's.
  const prices: PriceTable = {
    modal: { ...DEFAULT_PRICES.modal, ...(s.prices?.modal ?? {}), ...(prof.prices?.modal ?? {}) },
    'cloud-run': { ...DEFAULT_PRICES['cloud-run'], ...(s.prices?.['cloud-run'] ?? {}), ...(prof.prices?.['cloud-run'] ?? {}) },
  };
  const budget = prof.budget !== undefined ? prof.budget : (s.budget ?? null);
  if (prof.budget !== undefined) sources.budget = `${sp} (profiles.${profile}.budget)`;
  else if (s.budget) sources.budget = `${sp} (budget)`;
  for (const key of ['routing', 'prices', 'alerts'] as const) {
    if (prof[key]) sources[key] = `${sp} (profiles.${profile}.${key}${s[key] ? `, over ${key}` : ''})`;
    else if (s[key]) sources[key] = `${sp} (${key})`;
  }
  return {
    home,
    settingsPath: sp,
    profile,
    sources,
    modal: { urlTemplate: modalUrl, tokenEnv: modalTokenEnv, hasToken: tokens('modal', profile, modalTokenEnv) !== undefined },
    cloudRun: { url: runUrl, tokenEnv: runTokenEnv, hasToken: tokens('cloud-run', profile, runTokenEnv) !== undefined },
    routing: { ...DEFAULT_ROUTING, ...(s.routing ?? {}), ...(prof.routing ?? {}) },
    prices,
    budget: budget ? { ...budget } : null,
    alertThresholds: { ...DEFAULT_ALERT_THRESHOLDS, ...(s.alerts ?? {}), ...(prof.alerts ?? {}) },
    concurrency: s.concurrency ?? {},
    maxResponseMiB: s.maxResponseMiB ?? {},
    scaledownS: s.scaledownS ?? {},
    localEmbedModel: s.localEmbedModel ?? DEFAULT_LOCAL_EMBED_MODEL,
    localGenerateModel: s.localGenerateModel ?? DEFAULT_LOCAL_GENERATE_MODEL,
  };
}

/**
 * The endpoint of one backend under the active profile, or NOT_CONFIGURED naming the settings that
 * would provide it. The token is fetched here, at the last moment, and lives only in the endpoint.
 */
export function endpointFor(cfg: ResolvedCloudConfig, backend: BackendId, tokens: TokenSource, tuning: Partial<BackendEndpoint> = {}): BackendEndpoint {
  if (backend === 'modal') {
    if (!cfg.modal.urlTemplate) {
      throw new TandemError('NOT_CONFIGURED', `no Modal URL for profile "${cfg.profile}": set TANDEM_MODAL_URL_TEMPLATE (e.g. https://ws--app-{function}.modal.run), pass --modal-url, or set profiles.${cfg.profile}.modal.urlTemplate in ${cfg.settingsPath}`, { data: { setting: 'TANDEM_MODAL_URL_TEMPLATE', profile: cfg.profile } });
    }
    const token = tokens('modal', cfg.profile, cfg.modal.tokenEnv);
    return { ...withCaps(cfg, 'modal', tuning), url: cfg.modal.urlTemplate, ...(token ? { token } : {}) };
  }
  if (!cfg.cloudRun.url) {
    throw new TandemError('NOT_CONFIGURED', `no Cloud Run URL for profile "${cfg.profile}": set TANDEM_CLOUDRUN_URL (the Boltz-2 service base URL), pass --cloudrun-url, or set profiles.${cfg.profile}.cloudRun.url in ${cfg.settingsPath}`, { data: { setting: 'TANDEM_CLOUDRUN_URL', profile: cfg.profile } });
  }
  const token = tokens('cloud-run', cfg.profile, cfg.cloudRun.tokenEnv);
  return { ...withCaps(cfg, 'cloud-run', tuning), url: cfg.cloudRun.url, ...(token ? { token } : {}) };
}

/** The settings' response caps of one backend (MiB -> bytes) under the tuning's own. */
function withCaps(cfg: ResolvedCloudConfig, backend: BackendId, tuning: Partial<BackendEndpoint>): Partial<BackendEndpoint> {
  const caps: Record<string, number> = {};
  for (const [key, mib] of Object.entries(cfg.maxResponseMiB ?? {})) {
    const [b, fn] = key.split(':') as [string, string];
    if (b === backend) caps[fn] = Math.floor(mib * 1024 * 1024);
  }
  if (Object.keys(caps).length === 0) return tuning;
  return { ...tuning, maxResponseBytes: { ...caps, ...(tuning.maxResponseBytes ?? {}) } };
}
