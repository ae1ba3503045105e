import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppPool } from './app-pool.js';
import { BatchRunner } from './batch-runner.js';
import { matchCloudRun } from './cloud-run-routes.js';
import { handleControl } from './control-routes.js';
import { resolveConfig } from './emulator-config.js';
import type { EmulatorCore, RouteMatch } from './emulator-core.js';
import { emptyStats, snapshot } from './emulator-stats.js';
import { ExecutionStore } from './execution-store.js';
import { FaultInjector } from './fault-injector.js';
import { errorOutcome, readBody, writeOutcome, type Outcome } from './http-util.js';
import { matchModal } from './modal-routes.js';
import type { AppName, EmulatorOptions, EmulatorStats, FaultConfig, FaultKind, RunningEmulator } from './types.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

function authorized(header: string | undefined, token: string): boolean {
  // Compare digests so the comparison takes the same time whatever the header holds.
  return timingSafeEqual(digest(header ?? ''), digest(`Bearer ${token}`));
}

/** A fault's immediate answer (no execution), for the kinds that answer at once. */
function faultOutcome(fault: FaultKind, retryAfterS: number): Outcome | null {
  const retryAfter = { 'retry-after': String(retryAfterS) };
  switch (fault) {
    case 'rate-limit':
      return errorOutcome(429, 'Too many requests (injected)', retryAfter);
    case 'server-error':
      return errorOutcome(500, 'Internal server error (injected)');
    case 'unavailable':
      return errorOutcome(503, 'Service unavailable (injected)', retryAfter);
    case 'error-body':
      return { status: 200, body: { error: 'CUDA out of memory (injected)', status: 500 } };
    default:
      return null;
  }
}

/**
 * Starts the emulator on 127.0.0.1: Modal functions under /modal/{function}, the Cloud Run Boltz-2
 * service under /cloud-run, control routes under /_emulator. See README.md.
 */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const config = resolveConfig(opts);
  let stats: EmulatorStats = emptyStats();
  let baseUrl = '';
  const pool = new AppPool(config, () => stats);
  const core: EmulatorCore = {
    config,
    pool,
    store: new ExecutionStore(() => stats),
    batches: new BatchRunner(pool, () => config.inferenceMs.boltz2, () => stats),
    stats: () => stats,
    baseUrl: () => baseUrl,
  };
  const faults = new FaultInjector(config.faults);
  const hanging = new Set<http.ServerResponse>();

  const api: Omit<RunningEmulator, 'url' | 'modalTemplate' | 'cloudRunUrl' | 'close'> = {
    stats: () => snapshot(stats),
    setFaults: (f: FaultConfig | null) => faults.set(f),
    injectNext: (fault, o = {}) => faults.forceNext(fault, o.route, o.count ?? 1),
    scaleToZero: (app?: AppName) => pool.scaleToZero(app),
    reset: () => {
      core.store.reset();
      core.batches.reset();
      faults.clear();
      pool.scaleToZero();
      stats = emptyStats();
    },
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const body = await readBody(req);
    if (body === null) {
      writeOutcome(res, errorOutcome(413, 'request body too large'));
      return;
    }
    if (path.startsWith('/_emulator/')) {
      writeOutcome(res, handleControl(api, method, path, body));
      return;
    }
    const match: RouteMatch | Outcome =
      path.startsWith('/modal/') ? matchModal(core, method, path)
      : path === '/cloud-run' || path.startsWith('/cloud-run/') ? matchCloudRun(core, method, path)
      : errorOutcome(404, `no such route: ${path}`);
    const name = 'handle' in match ? match.name : `${method} ${path}`;
    stats.requests++;
    stats.byRoute[name] = (stats.byRoute[name] ?? 0) + 1;
    if (config.token !== undefined && !authorized(req.headers.authorization, config.token)) {
      writeOutcome(res, errorOutcome(401, 'missing or invalid bearer token', { 'www-authenticate': 'Bearer' }));
      return;
    }
    if (!('handle' in match)) {
      writeOutcome(res, match);
      return;
    }
    const fault = faults.choose([`${method} ${path}`, name]);
    if (fault) stats.faultsInjected[fault]++;
    if (fault === 'hang') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    const immediate = fault ? faultOutcome(fault, config.retryAfterS) : null;
    if (immediate) {
      writeOutcome(res, immediate);
      return;
    }
    const key = req.headers['idempotency-key'];
    const outcome = await match.handle({ method, path, body, idempotencyKey: typeof key === 'string' && key !== '' ? key : undefined });
    writeOutcome(res, outcome, fault === 'reset' || fault === 'malformed-json' ? fault : null);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      writeOutcome(res, errorOutcome(500, `emulator error: ${e instanceof Error ? e.message : String(e)}`));
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let closing: Promise<void> | null = null;
  return {
    ...api,
    url: baseUrl,
    modalTemplate: `${baseUrl}/modal/{function}`,
    cloudRunUrl: `${baseUrl}/cloud-run`,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        core.store.reset();
        core.batches.reset();
        pool.stop();
        for (const res of hanging) res.destroy();
        hanging.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
