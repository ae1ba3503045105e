import { CLOUD_RUN_GPU } from './batch-runner.js';
import { checkComplex, predictComplex, type Complex } from './boltz-output.js';
import type { EmulatorCore, ProtocolRequest, RouteMatch } from './emulator-core.js';
import { errorOutcome, parseJson, type Outcome } from './http-util.js';
import { sleep } from './sleep.js';

function predict(core: EmulatorCore, c: Complex) {
  const compute = async (signal: AbortSignal): Promise<Outcome> => {
    const end = core.pool.begin('boltz2');
    try {
      const w = await core.pool.ensureWarm('boltz2', signal);
      const inferenceMs = core.config.inferenceMs.boltz2;
      await sleep(inferenceMs, signal);
      const fields = predictComplex(c);
      core.stats().completed.predict++;
      return { status: 200, body: { ...fields, model_load_ms: w.modelLoadMs, inference_ms: inferenceMs, gpu: CLOUD_RUN_GPU, cold_start: w.coldStart } };
    } finally {
      end();
    }
  };
  // Cloud Run holds the request up to the service timeout, then answers 504 (the work is dropped).
  return async (signal: AbortSignal): Promise<Outcome> => {
    const work = new AbortController();
    const timer = new AbortController();
    const onOuterAbort = () => work.abort(signal.reason);
    signal.addEventListener('abort', onOuterAbort, { once: true });
    const timedOut = sleep(core.config.cloudRunTimeoutMs, timer.signal).then(
      () => true,
      () => false,
    );
    const run = compute(work.signal);
    try {
      const first = await Promise.race([run, timedOut]);
      if (first === true) {
        work.abort(new Error('request timed out'));
        run.catch(() => undefined);
        return errorOutcome(504, `upstream request timeout: the prediction did not finish within ${core.config.cloudRunTimeoutMs} ms`);
      }
      return first as Outcome;
    } finally {
      timer.abort();
      signal.removeEventListener('abort', onOuterAbort);
    }
  };
}

function submitComplex(core: EmulatorCore, route: string, req: ProtocolRequest, batch: boolean): Outcome | Promise<Outcome> {
  const parsed = parseJson(req.body);
  if (!parsed.ok) return parsed.outcome;
  const checked = checkComplex(parsed.value, { batch });
  if (!checked.ok) return errorOutcome(checked.status, checked.error);
  const c = checked.value;
  const exec = core.store.run(
    route,
    req.idempotencyKey,
    batch ? async () => ({ status: 202, body: { job_id: core.batches.start(c) } }) : predict(core, c),
  );
  return 'promise' in exec ? exec.promise : exec;
}

/** Routes under /cloud-run: /health, /predict, /batch, /batch/{id}. */
export function matchCloudRun(core: EmulatorCore, method: string, path: string): RouteMatch | Outcome {
  const rest = path.slice('/cloud-run'.length);
  const only = (allowed: string, name: string, handle: RouteMatch['handle']): RouteMatch | Outcome =>
    method === allowed ? { name, handle } : errorOutcome(405, `${method} is not allowed on /cloud-run${rest} (use ${allowed})`, { allow: allowed });
  if (rest === '/health') {
    return only('GET', 'GET /cloud-run/health', async () => ({ status: 200, body: { status: 'healthy', gpu: 'L4', model: 'boltz-2' } }));
  }
  if (rest === '/predict') return only('POST', 'POST /cloud-run/predict', async (req) => submitComplex(core, 'POST /cloud-run/predict', req, false));
  if (rest === '/batch') return only('POST', 'POST /cloud-run/batch', async (req) => submitComplex(core, 'POST /cloud-run/batch', req, true));
  const m = /^\/batch\/([^/]+)$/.exec(rest);
  if (m) {
    const id = decodeURIComponent(m[1]!);
    if (method === 'GET') {
      return { name: 'GET /cloud-run/batch/{id}', handle: async () => {
        const view = core.batches.view(id);
        return view ? { status: 200, body: view } : errorOutcome(404, `unknown batch job ${id}`);
      } };
    }
    if (method === 'DELETE') {
      return { name: 'DELETE /cloud-run/batch/{id}', handle: async () => {
        const r = core.batches.cancel(id);
        return r ? { status: 200, body: r } : errorOutcome(404, `unknown batch job ${id}`);
      } };
    }
    return errorOutcome(405, `${method} is not allowed on /cloud-run/batch/{id} (use GET or DELETE)`, { allow: 'GET, DELETE' });
  }
  return errorOutcome(404, `unknown Cloud Run path "${rest || '/'}"`);
}
