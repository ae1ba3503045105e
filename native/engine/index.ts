// The engine's public entry: what a host imports to get an engine. Hosts (native/hosts/*) import
// this module and native/engine/common/ only; the areas behind it are the engine's own
// (scripts/layers.mjs, enforced by ESLint). The typed contract of the API lives in common/.
export { createEngine, type Engine, type EngineDeps } from './api/create-engine.js';
export type { ApiService, ApiServiceDeps } from './api/api-service.js';

// What hosts print with: a curated list of types and pure helpers (formatting, defaults, flag
// choices), plus the few Node helpers a host needs itself (TANDEM_HOME, the float32 row writer,
// the cloud input checks the CLI runs before it records a job). Never the store, the queue or a
// client: hosts reach those through the API only. scripts/layers.mjs lists the files this
// entry may re-export from.
export { tandemHome } from './node/paths.js';
export { f32RowsFormatter, type F32RowsFormatter } from './node/f32-rows.js';
export { loadChemToolkit } from './node/chem-toolkit.js';
export { VARIANTS, type Variant } from './models/catalog.js';
export type { InputType } from './inference/embed-engine.js';
export { formatShape, type OnnxModelInfo, type OnnxValueInfo } from './inference/onnx-inspect.js';
export { describeTensor, type HostTensor, type TensorFormat } from './inference/tensor-io.js';
export type { TensorRunResult } from './inference/tensor-run-engine.js';
export type { GenerateResult } from './generate/index.js';
export { FUSION_METHODS, type FusionMethod } from './search/fusion.js';
export { trecLines } from './search/trec.js';
export { bracketed } from './search/lexical.js';
export { formatDuration, formatPercent, formatTable, formatTree, formatUsd, formatWhen, oneLine } from './jobs/job-format.js';
export { runMs, type JobStats } from './jobs/job-stats.js';
export { BACKENDS, JOB_STATUSES, type Backend, type Job, type JobEvent, type JobStatus } from './jobs/job-types.js';
export { DEFAULT_INDEX_MODEL } from './library/index-job.js';
export { isExpectedReason, type NotIndexed } from './library/index-report.js';
export { checkEvalModes, DEFAULT_EVAL_K, EVAL_KIND, EVAL_MODES, formatEvalTable, type EvalReport } from './library/eval-job.js';
export { DEFAULT_RERANK_TOP, DEFAULT_SEARCH_MODE, SEARCH_MODES, resolveMode, type DocumentHit, type SearchMode, type SearchQuery } from './library/searcher.js';
export { POLICIES, ROUTED_KINDS, type CloudFlags, type Policy, type RoutedKind } from './cloud/cloud-config.js';
export type { RoutePlan } from './cloud/cloud-service.js';
export type { BackendId, CloudRequest, GenerateRequest, QwenModel } from '../../cloud-adapters/contract.js';
export { parseBatchJson, parseComplexJson } from '../../cloud-adapters/validate.js';
