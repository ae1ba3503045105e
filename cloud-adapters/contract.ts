import type { JsonValue } from '../native/engine/common/errors.js';
import type { CallPhaseEvent } from './http/http-client.js';

/**
 * The backend contract every cloud adapter implements (wire format: ../shared/cloud-protocol.md).
 * Adapters are stateless translators between Tandem's job requests and one backend's HTTP
 * surface: no SQLite, no files, no routing or budgets (the job layer in native/engine/cloud does that).
 * Every failure is a TandemError with a closed code; no token ever appears in a message.
 */

export type BackendId = 'modal' | 'cloud-run';

/** The remote job kinds. */
export type CloudJobKind = 'boltz2' | 'boltz2-batch' | 'generate' | 'embed-remote';

/** Qwen sizes behind Modal's generate functions. */
export type QwenModel = 'qwen-32b' | 'qwen-80b' | 'qwen-480b';

export interface GpuSpec {
  /** e.g. 'A100-80GB', 'H100', 'A10G', 'L4'. */
  type: string;
  count: number;
}

/** One remote function (a Modal web endpoint, or a Cloud Run path family). */
export interface FunctionCapability {
  /** Modal: the `{function}` of the URL template (generate, qwen-80b-generate, embed...); Cloud Run: predict | batch. */
  name: string;
  kinds: CloudJobKind[];
  gpu: GpuSpec;
  /** Requests in flight at once that the backend accepts (Modal max inputs x max containers). */
  maxConcurrency: number;
  /** Total deadline of one call, seconds (1200/1800/3600 by model size). */
  timeoutS: number;
  /** Typical cold start, seconds (for estimates and UI hints). */
  coldStartS: number;
  /** Typical warm GPU seconds per unit (request, ligand), for estimates. */
  typicalGpuS: number;
  /** The range cold starts are known to take, seconds (seed 002: 5-7 min for Qwen 32B), for status lines; default coldStartS. */
  coldStartRangeS?: readonly [number, number];
  /**
   * How long the backend keeps an idle container, seconds (Modal's scaledown_window; seed 001: 600 s
   * for the 32B app). A function that answered within it is estimated warm. Settings may override it.
   */
  scaledownS?: number;
  /**
   * How this function serves a boltz2-batch: `remote` (submit once, then poll the backend's batch
   * job) or `per-item` (the client sends one call per ligand, each with its own idempotency key).
   */
  batch?: 'remote' | 'per-item';
}

export interface Capabilities {
  backend: BackendId;
  functions: FunctionCapability[];
}

/** USD per GPU-hour by GPU type, per backend (the editable price table). */
export type PriceTable = Record<BackendId, Record<string, number>>;

export interface CostEstimate {
  usd: number;
  gpu: GpuSpec;
  gpuSeconds: number;
  ratePerGpuHour: number;
  /** How the number was made, for the UI ("2 x H100 x 40 s x $4.00/h"). */
  basis: string;
}

// --- requests (validated by the adapters before any request is sent) ---

export interface ProteinInput {
  id: string;
  sequence: string;
}

export interface LigandInput {
  id: string;
  smiles?: string;
  ccd?: string;
}

export interface Boltz2Request {
  kind: 'boltz2';
  name: string;
  proteins: ProteinInput[];
  ligands: LigandInput[];
  affinity?: boolean;
  diffusionSamples?: number;
  recyclingSteps?: number;
}

export interface Boltz2BatchRequest {
  kind: 'boltz2-batch';
  name: string;
  proteins: ProteinInput[];
  ligands: LigandInput[];
  affinity?: boolean;
  options?: { [k: string]: JsonValue };
}

export interface GenerateRequest {
  kind: 'generate';
  model: QwenModel;
  prompt: string;
  schema: { [k: string]: JsonValue };
  maxTokens?: number;
  temperature?: number;
}

export interface EmbedRemoteRequest {
  kind: 'embed-remote';
  texts: string[];
  instruction?: string;
}

export type CloudRequest = Boltz2Request | Boltz2BatchRequest | GenerateRequest | EmbedRemoteRequest;

// --- results ---

export interface Boltz2Prediction {
  /** mmCIF text. */
  structure: string;
  confidence: { [k: string]: JsonValue };
  affinity: { [k: string]: JsonValue } | null;
  gpu: string | null;
}

export interface Boltz2LigandResult extends Boltz2Prediction {
  ligandId: string;
}

export interface GenerateResult {
  output: JsonValue;
  text: string;
  usage: { promptTokens: number; completionTokens: number };
}

export interface EmbedRemoteResult {
  embeddings: number[][];
  dim: number;
}

/** What one finished remote call measured. */
export interface CallTimings {
  /** Wall time of the whole call including retries, 303 polling and transfer. */
  totalMs: number;
  /** Time to first byte of the final successful response. */
  ttfbMs: number;
  /** Model load reported by the server (`model_load_ms`), 0 when warm. */
  modelLoadMs: number;
  /** Inference reported by the server (`inference_ms`). */
  inferenceMs: number;
  /** Request upload + response download of the successful attempt. */
  transferMs: number;
  coldStart: boolean;
  /** HTTP attempts made, including retries and 303 polls. */
  attempts: number;
}

export type SubmitOutcome =
  | { state: 'done'; result: Boltz2Prediction | GenerateResult | EmbedRemoteResult; timings: CallTimings; function: string }
  /** Accepted for async processing (Cloud Run /batch): poll with the remote id. */
  | { state: 'accepted'; remoteId: string; timings: CallTimings; function: string };

export type RemoteStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface PollOutcome {
  remoteId: string;
  status: RemoteStatus;
  done: number;
  total: number;
  /** Results so far (all of them once succeeded). */
  results: Boltz2LigandResult[];
  error: string | null;
  timings: CallTimings;
}

export interface HealthResult {
  backend: BackendId;
  /** The function or path probed. */
  function: string;
  ok: boolean;
  status: string;
  model: string | null;
  gpu: string | null;
  latencyMs: number;
  /** The server's own fields, as returned. */
  raw: { [k: string]: JsonValue };
}

export interface WarmupResult {
  backend: BackendId;
  function: string;
  /** The server-reported model load (the cold start paid), 0 when it was already warm. */
  modelLoadMs: number;
  totalMs: number;
  coldStart: boolean;
}

/** Per-call settings the job layer passes in. */
export interface CallOptions {
  /** Aborts every attempt and the backoff waits (reason: a CANCELLED TandemError). */
  signal?: AbortSignal;
  /** Sent as `Idempotency-Key` (the job id) on every submit attempt. */
  idempotencyKey?: string;
  /** Overall deadline for the call, ms (default: the function's timeoutS). */
  deadlineMs?: number;
  /** Told what the call is doing while it waits: connecting, connected, 303 polls, retries (for status lines). */
  onPhase?: (e: CallPhaseEvent) => void;
}

/** Where and how to reach one backend: from the active profile, never from code. */
export interface BackendEndpoint {
  /** Modal: the URL template with `{function}`; Cloud Run: the service base URL. */
  url: string;
  /** Bearer token, or undefined when the profile has none. Never logged. */
  token?: string;
  /** Connect timeout ms (default 10 000). */
  connectTimeoutMs?: number;
  /** Time-to-first-byte timeout per attempt, ms (default: Modal 160 000 so a 303 at 150 s arrives; Cloud Run = deadline). */
  firstByteTimeoutMs?: number;
  /** Retry policy overrides (tests shrink these). */
  retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /**
   * Largest response body read per function, bytes, keyed by the function's name in `capabilities()`
   * (`generate`, `embed`, `boltz2`, `predict`, `batch`, ...) or `default` for the others. Built-in:
   * 256 MiB for Boltz-2 answers (they carry structures), 64 MiB for everything else.
   */
  maxResponseBytes?: Record<string, number>;
  /** 303 polling: least spacing between polls (default 1000 ms, growing x1.5 to 15 s), poll count limit (default from the deadline). */
  poll?: { minIntervalMs?: number; factor?: number; maxIntervalMs?: number; maxPolls?: number };
  /** Per-attempt total time to read a response body, ms (default 300 000). */
  bodyDeadlineMs?: number;
  /** Least average body rate after `bodyGraceMs` (default 8 KiB/s after 20 s; 0 turns it off). */
  minBodyBytesPerSec?: number;
  bodyGraceMs?: number;
}

export interface CloudAdapter {
  readonly id: BackendId;
  capabilities(): Capabilities;
  /** The function that serves a request (for concurrency caps and estimates). */
  functionFor(req: CloudRequest): FunctionCapability;
  /** Throws INVALID_INPUT with a specific message when the request breaks the protocol's rules. */
  validate(req: CloudRequest): void;
  health(opts?: CallOptions & { function?: string }): Promise<HealthResult>;
  warmup(opts?: CallOptions & { function?: string }): Promise<WarmupResult>;
  submit(req: CloudRequest, opts: CallOptions): Promise<SubmitOutcome>;
  poll(remoteId: string, opts?: CallOptions): Promise<PollOutcome>;
  cancel(remoteId: string, opts?: CallOptions): Promise<void>;
  /**
   * GPU-seconds x GPU count x rate. Includes the function's cold start unless `opts.warm` is true
   * (added compatibly: callers without opts get the conservative, cold estimate).
   */
  estimateCost(req: CloudRequest, prices: PriceTable, opts?: { warm?: boolean }): CostEstimate;
}

/** How a registry builds an adapter: one module per backend exports one of these. */
export interface AdapterFactory {
  id: BackendId;
  create(endpoint: BackendEndpoint): CloudAdapter;
}
