import type { JsonValue } from '../native/engine/common/errors.js';
import type { EmulatorCore, ProtocolRequest, RouteMatch } from './emulator-core.js';
import { EMBED_DIM, unitVector } from './embed-output.js';
import type { Execution } from './execution-store.js';
import { errorOutcome, modalError, parseJson, type Outcome } from './http-util.js';
import { valueForSchema } from './schema-output.js';
import { rngFor } from './seeded-random.js';
import { sleep } from './sleep.js';
import type { AppName } from './types.js';
import { checkComplex, predictComplex, type Complex } from './boltz-output.js';

type ModalKind = 'health' | 'warmup' | 'generate' | 'embed' | 'predict';

interface ModalFunction {
  app: AppName;
  kind: ModalKind;
}

interface AppInfo {
  model: string;
  gpu: string;
}

const APP_INFO: Record<Exclude<AppName, 'boltz2'>, AppInfo> = {
  'modal-boltz2': { model: 'boltz-2', gpu: 'NVIDIA A100-SXM4-40GB' },
  'qwen-32b': { model: 'Qwen/Qwen2.5-Coder-32B-Instruct', gpu: 'NVIDIA A100-SXM4-80GB' },
  'qwen-80b': { model: 'Qwen/Qwen3-Next-80B-A3B-Instruct', gpu: 'NVIDIA H100 80GB HBM3' },
  'qwen-480b': { model: 'Qwen/Qwen3-Coder-480B-A35B-Instruct', gpu: 'NVIDIA H100 80GB HBM3' },
  embed: { model: 'hkunlp/instructor-xl', gpu: 'NVIDIA A10G' },
};

/** `{function}` of the URL template -> app and kind. */
export const MODAL_FUNCTIONS: Readonly<Record<string, ModalFunction>> = {
  health: { app: 'qwen-32b', kind: 'health' },
  warmup: { app: 'qwen-32b', kind: 'warmup' },
  generate: { app: 'qwen-32b', kind: 'generate' },
  'qwen-80b-health': { app: 'qwen-80b', kind: 'health' },
  'qwen-80b-warmup': { app: 'qwen-80b', kind: 'warmup' },
  'qwen-80b-generate': { app: 'qwen-80b', kind: 'generate' },
  'qwen-480b-health': { app: 'qwen-480b', kind: 'health' },
  'qwen-480b-warmup': { app: 'qwen-480b', kind: 'warmup' },
  'qwen-480b-generate': { app: 'qwen-480b', kind: 'generate' },
  embed: { app: 'embed', kind: 'embed' },
  'embed-health': { app: 'embed', kind: 'health' },
  'embed-warmup': { app: 'embed', kind: 'warmup' },
  boltz2: { app: 'modal-boltz2', kind: 'predict' },
  'boltz2-health': { app: 'modal-boltz2', kind: 'health' },
  'boltz2-warmup': { app: 'modal-boltz2', kind: 'warmup' },
};

const METHOD: Record<ModalKind, string> = { health: 'GET', warmup: 'GET', generate: 'POST', embed: 'POST', predict: 'POST' };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Waits up to redirectAfterMs for the call; past it, 303 to the call's poll URL. */
async function awaitCall(core: EmulatorCore, exec: Execution): Promise<Outcome> {
  if (exec.outcome) return exec.outcome;
  const timer = new AbortController();
  const redirect = sleep(core.config.redirectAfterMs, timer.signal).then(
    () => null,
    () => null,
  );
  const outcome = await Promise.race([exec.promise, redirect]);
  timer.abort();
  if (outcome) return outcome;
  return { status: 303, headers: { location: `${core.baseUrl()}/modal/_calls/${exec.id}` }, body: { call_id: exec.id, status: 'running' } };
}

function submit(core: EmulatorCore, route: string, req: ProtocolRequest, work: (signal: AbortSignal) => Promise<Outcome>): Promise<Outcome> {
  const exec = core.store.run(route, req.method === 'POST' ? req.idempotencyKey : undefined, work, { pollable: true });
  return 'promise' in exec ? awaitCall(core, exec) : Promise.resolve(exec);
}

function health(core: EmulatorCore, app: Exclude<AppName, 'boltz2'>): Outcome {
  const info = APP_INFO[app];
  return {
    status: 200,
    body: { status: 'healthy', model: info.model, gpu_available: true, gpu_name: info.gpu, torch_version: '2.5.1', cuda_version: '12.4', warm: core.pool.isWarm(app) },
  };
}

function warmup(core: EmulatorCore, app: AppName) {
  return async (signal: AbortSignal): Promise<Outcome> => {
    const end = core.pool.begin(app);
    try {
      const w = await core.pool.ensureWarm(app, signal);
      core.stats().completed.warmups++;
      return { status: 200, body: { status: 'warm', model_load_ms: w.modelLoadMs } };
    } finally {
      end();
    }
  };
}

function checkGenerate(body: unknown): { prompt: string; schema: { [k: string]: JsonValue } } | Outcome {
  if (!isObj(body)) return modalError(400, 'Missing required field: prompt');
  if (body.prompt === undefined || body.prompt === null) return modalError(400, 'Missing required field: prompt');
  if (body.schema === undefined || body.schema === null) return modalError(400, 'Missing required field: schema');
  if (typeof body.prompt !== 'string' || body.prompt.trim() === '') return modalError(400, 'Field prompt must be a non-empty string');
  if (!isObj(body.schema)) return modalError(400, 'Field schema must be a JSON Schema object');
  if (body.max_tokens !== undefined && (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1)) return modalError(400, 'Field max_tokens must be a positive integer');
  if (body.temperature !== undefined && (typeof body.temperature !== 'number' || body.temperature < 0 || body.temperature > 2)) return modalError(400, 'Field temperature must be a number between 0 and 2');
  return { prompt: body.prompt, schema: body.schema as { [k: string]: JsonValue } };
}

function generate(core: EmulatorCore, app: AppName, prompt: string, schema: { [k: string]: JsonValue }) {
  return async (signal: AbortSignal): Promise<Outcome> => {
    const end = core.pool.begin(app);
    try {
      const w = await core.pool.ensureWarm(app, signal);
      const inferenceMs = core.config.inferenceMs[app];
      await sleep(inferenceMs, signal);
      const output = valueForSchema(schema, rngFor('generate', prompt, JSON.stringify(schema)));
      const text = JSON.stringify(output);
      core.stats().completed.generate++;
      return {
        status: 200,
        body: {
          output,
          text,
          usage: { prompt_tokens: Math.max(1, Math.ceil(prompt.length / 4)), completion_tokens: Math.max(1, Math.ceil(text.length / 4)) },
          model_load_ms: w.modelLoadMs,
          inference_ms: inferenceMs,
          cold_start: w.coldStart,
        },
      };
    } finally {
      end();
    }
  };
}

function checkEmbed(body: unknown): { texts: string[]; single: boolean; instruction: string } | Outcome {
  if (!isObj(body) || (body.text === undefined && body.texts === undefined)) return modalError(400, 'Missing required field: text (or texts)');
  if (body.text !== undefined && body.texts !== undefined) return modalError(400, 'Send either text or texts, not both');
  if (body.instruction !== undefined && typeof body.instruction !== 'string') return modalError(400, 'Field instruction must be a string');
  const instruction = typeof body.instruction === 'string' ? body.instruction : '';
  if (body.text !== undefined) {
    if (typeof body.text !== 'string' || body.text.trim() === '') return modalError(400, 'Field text must be a non-empty string');
    return { texts: [body.text], single: true, instruction };
  }
  if (!Array.isArray(body.texts) || body.texts.length === 0) return modalError(400, 'Field texts must be a non-empty list of strings');
  for (const [i, t] of body.texts.entries()) {
    if (typeof t !== 'string' || t.trim() === '') return modalError(400, `texts[${i}] must be a non-empty string`);
  }
  return { texts: body.texts as string[], single: false, instruction };
}

function embed(core: EmulatorCore, input: { texts: string[]; single: boolean; instruction: string }) {
  return async (signal: AbortSignal): Promise<Outcome> => {
    const end = core.pool.begin('embed');
    try {
      const w = await core.pool.ensureWarm('embed', signal);
      const inferenceMs = core.config.inferenceMs.embed;
      await sleep(inferenceMs, signal);
      const vectors = input.texts.map((t) => unitVector(t, input.instruction));
      core.stats().completed.embed++;
      const timing = { model_load_ms: w.modelLoadMs, inference_ms: inferenceMs, cold_start: w.coldStart, dim: EMBED_DIM };
      return { status: 200, body: input.single ? { embedding: vectors[0]!, ...timing } : { embeddings: vectors, ...timing } };
    } finally {
      end();
    }
  };
}

/** Boltz-2 on Modal: the Cloud Run /predict body and answer; input errors come back Modal-style (HTTP 200 + error). */
function predictModal(core: EmulatorCore, c: Complex) {
  return async (signal: AbortSignal): Promise<Outcome> => {
    const end = core.pool.begin('modal-boltz2');
    try {
      const w = await core.pool.ensureWarm('modal-boltz2', signal);
      const inferenceMs = core.config.inferenceMs['modal-boltz2'];
      await sleep(inferenceMs, signal);
      const fields = predictComplex(c);
      core.stats().completed.predict++;
      return { status: 200, body: { ...fields, model_load_ms: w.modelLoadMs, inference_ms: inferenceMs, gpu: APP_INFO['modal-boltz2'].gpu, cold_start: w.coldStart } };
    } finally {
      end();
    }
  };
}

/** Routes under /modal: `/modal/{function}` and the 303 poll URL `/modal/_calls/{id}`. */
export function matchModal(core: EmulatorCore, method: string, path: string): RouteMatch | Outcome {
  const rest = path.slice('/modal/'.length);
  if (rest.startsWith('_calls/')) {
    const id = rest.slice('_calls/'.length);
    const name = 'GET /modal/_calls/{id}';
    if (method !== 'GET') return errorOutcome(405, `${method} is not allowed on this URL (use GET)`, { allow: 'GET' });
    return {
      name,
      handle: async () => {
        const exec = core.store.call(id);
        return exec ? awaitCall(core, exec) : errorOutcome(404, `unknown call ${id}`);
      },
    };
  }
  const fn = MODAL_FUNCTIONS[rest];
  if (!fn || rest.includes('/')) return errorOutcome(404, `unknown Modal function "${rest}"`);
  const allowed = METHOD[fn.kind];
  if (method !== allowed) return errorOutcome(405, `${method} is not allowed on /modal/${rest} (use ${allowed})`, { allow: allowed });
  const name = `${method} /modal/${rest}`;
  return {
    name,
    handle: async (req) => {
      if (fn.kind === 'health') return health(core, fn.app as Exclude<AppName, 'boltz2'>);
      if (fn.kind === 'warmup') return submit(core, name, req, warmup(core, fn.app));
      const parsed = parseJson(req.body);
      if (!parsed.ok) return parsed.outcome;
      if (fn.kind === 'predict') {
        const c = checkComplex(parsed.value, { batch: false });
        return c.ok ? submit(core, name, req, predictModal(core, c.value)) : modalError(c.status, c.error);
      }
      if (fn.kind === 'generate') {
        const input = checkGenerate(parsed.value);
        return 'status' in input ? input : submit(core, name, req, generate(core, fn.app, input.prompt, input.schema));
      }
      const input = checkEmbed(parsed.value);
      return 'status' in input ? input : submit(core, name, req, embed(core, input));
    },
  };
}
