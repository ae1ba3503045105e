/**
 * The cloud part of the typed API (merged into API_METHODS in api-contract.ts): configuration,
 * health, warm-up, costs and budget, routing, prices, request validation, plan and submit of
 * remote jobs, and reading a job's result files. Pure zod, no Node: the renderer shares it.
 */
import { z } from 'zod';
import { QWEN_MODEL_IDS } from '../boltz-validate.js';

export const POLICY_VALUES = ['auto', 'local', 'modal', 'cloud-run'] as const;
export const ROUTED_KIND_VALUES = ['embed-remote', 'generate', 'boltz2', 'boltz2-batch'] as const;
export const REMOTE_BACKEND_VALUES = ['modal', 'cloud-run'] as const;
export const BUDGET_ACTION_VALUES = ['warn', 'block'] as const;
export const ALERT_RULE_VALUES = ['cost-anomaly', 'error-rate', 'slowdown', 'budget'] as const;

export type Policy = (typeof POLICY_VALUES)[number];
export type RoutedKind = (typeof ROUTED_KIND_VALUES)[number];
export type RemoteBackend = (typeof REMOTE_BACKEND_VALUES)[number];

const nonEmpty = z.string().trim().min(1);
const policySchema = z.enum(POLICY_VALUES);
const routedKindSchema = z.enum(ROUTED_KIND_VALUES);
const remoteBackendSchema = z.enum(REMOTE_BACKEND_VALUES);
const gpuSchema = z.object({ type: z.string(), count: z.number() });
const wireErrorSchema = z.object({ code: z.string(), message: z.string() });
const priceTableSchema = z.record(z.string(), z.record(z.string(), z.number()));
const budgetSchema = z.object({ monthlyUsd: z.number(), action: z.enum(BUDGET_ACTION_VALUES) });
/** The alert rules' thresholds as fractions: cost per job up (0.2 = +20 %), error rate (0.01 = 1 %), median run time slower (0.1 = 10 %). */
const alertThresholdsSchema = z.object({ costAnomaly: z.number(), errorRate: z.number(), slowdown: z.number() });
export type ApiAlertThresholds = z.infer<typeof alertThresholdsSchema>;

// ------------------------------------------------------------------------------------------------
// Requests (shape only: the protocol's rules are checked by boltz-validate.ts / the adapters and
// reported as INVALID_INPUT naming the field)

const proteinSchema = z.object({ id: z.string(), sequence: z.string() }).strict();
const ligandSchema = z.object({ id: z.string(), smiles: z.string().optional(), ccd: z.string().optional() }).strict();

export const cloudRequestSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('boltz2'),
      name: z.string(),
      proteins: z.array(proteinSchema).max(100),
      ligands: z.array(ligandSchema).max(1000).default([]),
      affinity: z.boolean().optional(),
      diffusionSamples: z.number().int().optional(),
      recyclingSteps: z.number().int().optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('boltz2-batch'),
      name: z.string(),
      proteins: z.array(proteinSchema).max(100),
      ligands: z.array(ligandSchema).max(10000),
      affinity: z.boolean().optional(),
      options: z.record(z.string(), z.unknown()).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('generate'),
      model: z.enum(QWEN_MODEL_IDS),
      prompt: z.string(),
      schema: z.record(z.string(), z.unknown()),
      maxTokens: z.number().int().optional(),
      temperature: z.number().optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('embed-remote'),
      texts: z.array(z.string()).max(10000),
      instruction: z.string().optional(),
    })
    .strict(),
]);
export type ApiCloudRequest = z.infer<typeof cloudRequestSchema>;

export const fieldErrorSchema = z.object({ field: z.string(), message: z.string() });

export const costEstimateSchema = z.object({ usd: z.number(), gpu: gpuSchema, gpuSeconds: z.number(), ratePerGpuHour: z.number(), basis: z.string() });

export const budgetCheckSchema = z.object({ ok: z.boolean(), afterUsd: z.number(), budgetUsd: z.number(), action: z.enum(BUDGET_ACTION_VALUES), message: z.string() });

/** Who answers a request: the model, where, and the model asked for when another one stands in (a 0.5B local model for qwen-32b). */
export const answeredBySchema = z.object({ model: z.string(), where: z.string(), substitutedFor: z.string().nullable() });

/** Where a request would run, why, what it would cost and what that does to the budget. */
export const routePlanSchema = z.object({
  kind: routedKindSchema,
  policy: policySchema,
  backend: z.enum(['local', 'modal', 'cloud-run']),
  reason: z.string(),
  function: z.string().nullable(),
  /** The estimate assumed (warm or cold, see `estimates`). */
  estimate: costEstimateSchema.nullable(),
  /** Both figures and which one was assumed: warm when the function answered within its scale-down window. */
  estimates: z.object({ cold: costEstimateSchema, warm: costEstimateSchema, assumed: z.enum(['warm', 'cold']), why: z.string() }).nullable().optional(),
  budget: budgetCheckSchema.nullable(),
  answeredBy: answeredBySchema.nullable().optional(),
});
export type ApiRoutePlan = z.infer<typeof routePlanSchema>;

export const remoteFunctionSchema = z.object({
  backend: remoteBackendSchema,
  name: z.string(),
  kinds: z.array(z.string()),
  gpu: gpuSchema,
  maxConcurrency: z.number(),
  timeoutS: z.number(),
  coldStartS: z.number(),
  typicalGpuS: z.number(),
  /** Scale-down window in effect (settings over the built-in table), seconds. */
  scaledownS: z.number().optional(),
  /** What the client knows: warm when it answered within that window. */
  warm: z.object({ assumed: z.enum(['warm', 'cold']), why: z.string() }).optional(),
});

export const alertSchema = z.object({
  rule: z.enum(ALERT_RULE_VALUES),
  severity: z.enum(['warning', 'critical']),
  scope: z.string(),
  message: z.string(),
  value: z.number(),
  threshold: z.number(),
});
export type ApiAlert = z.infer<typeof alertSchema>;

export const healthRowSchema = z.object({
  backend: remoteBackendSchema,
  ok: z.boolean(),
  function: z.string().nullable(),
  status: z.string().nullable(),
  model: z.string().nullable(),
  gpu: z.string().nullable(),
  latencyMs: z.number().nullable(),
  error: wireErrorSchema.nullable(),
});
export type ApiHealthRow = z.infer<typeof healthRowSchema>;

// ------------------------------------------------------------------------------------------------
// Methods

export const CLOUD_API_METHODS = {
  /** The active profile, backend URLs and where each setting came from, token set or not (never the token), routing, budget, prices, functions. */
  'cloud.config': {
    input: z.object({}).strict(),
    output: z.object({
      profile: z.string(),
      settingsPath: z.string(),
      sources: z.record(z.string(), z.string()),
      modal: z.object({ urlTemplate: z.string().nullable(), tokenEnv: z.string(), hasToken: z.boolean() }),
      cloudRun: z.object({ url: z.string().nullable(), tokenEnv: z.string(), hasToken: z.boolean() }),
      routing: z.record(routedKindSchema, policySchema),
      budget: budgetSchema.nullable(),
      prices: priceTableSchema,
      /** The built-in prices, to tell the user's own from them (a changed one can be reset). */
      defaultPrices: priceTableSchema,
      alertThresholds: alertThresholdsSchema,
      localEmbedModel: z.string(),
      functions: z.array(remoteFunctionSchema),
      /** What the Warm up buttons call: a function per model family. */
      warmups: z.array(z.object({ backend: remoteBackendSchema, function: z.string(), label: z.string() })),
      breakers: z.array(z.object({ backend: remoteBackendSchema, state: z.enum(['closed', 'open', 'half-open']), consecutiveFailures: z.number(), lastError: z.string().nullable() })),
    }),
  },
  /** Probe both backends (or one): ok or the error, per backend. */
  'cloud.health': {
    input: z.object({ backend: remoteBackendSchema.optional(), function: nonEmpty.optional() }).strict(),
    output: z.object({ backends: z.array(healthRowSchema) }),
  },
  /** Warm a function up as a `warmup` job; its result carries the measured cold start (modelLoadMs, coldStart). */
  'cloud.warmup': {
    input: z.object({ backend: remoteBackendSchema, function: nonEmpty.optional() }).strict(),
    output: z.object({ jobId: z.string() }),
  },
  /** This month's spend and projection, the budget, the price table and the alerts. */
  'cloud.costs': {
    input: z.object({}).strict(),
    output: z.object({
      month: z.object({
        month: z.string(),
        spentUsd: z.number(),
        jobs: z.number(),
        projectedUsd: z.number(),
        daysElapsed: z.number(),
        daysInMonth: z.number(),
        byKindBackend: z.array(z.object({ kind: z.string(), backend: z.string(), jobs: z.number(), usd: z.number() })),
      }),
      budget: budgetSchema.nullable(),
      prices: priceTableSchema,
      alerts: z.array(alertSchema),
    }),
  },
  /**
   * Set the active profile's monthly budget (`monthlyUsd: null` removes it): saved in cloud.json,
   * used by the next plan and submit (no restart); a `block` budget refuses a job that would pass it.
   */
  'cloud.setBudget': {
    input: z.object({ monthlyUsd: z.number().nonnegative().max(10_000_000).nullable(), action: z.enum(BUDGET_ACTION_VALUES).default('warn') }).strict(),
    output: z.object({ profile: z.string(), budget: budgetSchema.nullable() }),
  },
  /** The one switch, in the active profile: where a job kind runs (e.g. boltz2 -> modal moves Boltz-2 off Cloud Run). */
  'cloud.setRoute': {
    input: z.object({ kind: routedKindSchema, policy: policySchema }).strict(),
    output: z.object({ profile: z.string(), routing: z.record(routedKindSchema, policySchema) }),
  },
  /** The active profile's alert thresholds (fractions; `null` puts one back to the built-in value); the next cloud.costs uses them. */
  'cloud.setAlerts': {
    input: z
      .object({
        costAnomaly: z.number().positive().max(10).nullable().optional(),
        errorRate: z.number().positive().max(1).nullable().optional(),
        slowdown: z.number().positive().max(10).nullable().optional(),
      })
      .strict(),
    output: z.object({ profile: z.string(), alertThresholds: alertThresholdsSchema }),
  },
  /**
   * Set (or, with `url: null`, remove) a backend's URL in the active profile of the settings file,
   * and optionally the name of the environment variable holding its token (never the token: the
   * desktop app keeps tokens in the OS keychain). Effective at once, no restart; an environment
   * variable or flag of the same setting still wins (`overriddenBy` names it).
   */
  'cloud.setBackend': {
    input: z
      .object({
        backend: remoteBackendSchema,
        url: z.string().trim().min(1).max(2000).nullable(),
        tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').max(100).optional(),
      })
      .strict(),
    output: z.object({ profile: z.string(), url: z.string().nullable(), source: z.string().nullable(), tokenEnv: z.string(), hasToken: z.boolean(), overriddenBy: z.string().nullable() }),
  },
  /**
   * Set one price (USD per GPU-hour) in the active profile, or with `rate: null` drop the profile's
   * own (back to the shared or built-in one); the next estimate uses it (no restart).
   */
  'cloud.setPrice': {
    input: z
      .object({ backend: remoteBackendSchema, gpu: nonEmpty.max(40).regex(/^[A-Za-z0-9][\w.+-]*$/, 'a GPU type such as A100-80GB'), rate: z.number().positive().max(1000).nullable() })
      .strict(),
    output: z.object({ profile: z.string(), prices: priceTableSchema }),
  },
  /**
   * Every problem of a request (field + message) without sending anything (ligand SMILES parsed by
   * RDKit in the engine); `warnings` do not block (an affinity binder over 56 heavy atoms); with
   * `output`, also checks that output against a generate request's JSON Schema.
   */
  'cloud.validate': {
    input: z.object({ request: z.record(z.string(), z.unknown()), output: z.unknown().optional() }).strict(),
    output: z.object({ ok: z.boolean(), errors: z.array(fieldErrorSchema), warnings: z.array(fieldErrorSchema), output: z.object({ ok: z.boolean(), errors: z.string().nullable() }).nullable() }),
  },
  /** Route, estimate and budget check of a request, recording nothing. */
  'cloud.plan': {
    input: z.object({ request: cloudRequestSchema, policy: policySchema.optional() }).strict(),
    output: z.object({ plan: routePlanSchema }),
  },
  /**
   * Record and run a remote job; returns at once with its id and the plan it follows. `detached`:
   * record it only (queued), for a host that runs its kind to resume (`jobs.resume`).
   */
  'cloud.submit': {
    input: z.object({ request: cloudRequestSchema, policy: policySchema.optional(), priority: z.number().int().min(-100).max(100).optional(), detached: z.boolean().optional() }).strict(),
    output: z.object({ jobId: z.string(), plan: routePlanSchema }),
  },
  /** The text of a result file under $TANDEM_HOME/results/<jobId>/ (e.g. a predicted mmCIF); nothing outside it. */
  'results.read': {
    input: z.object({ jobId: nonEmpty.regex(/^[0-9A-Za-z]+$/, 'a job id'), file: nonEmpty }).strict(),
    output: z.object({ path: z.string(), text: z.string(), bytes: z.number() }),
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;
