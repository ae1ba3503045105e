import type { Command } from 'commander';
import { POLICIES, ROUTED_KINDS, formatDuration, formatTable, formatUsd, type BackendId, type CloudFlags, type Engine, type EngineDeps, type Policy, type RoutedKind } from '../../../engine/index.js';
import type { ApiJob } from '../../../engine/common/api-contract.js';
import { describeError, TandemError } from '../../../engine/common/errors.js';
import { awaitJob } from '../api-jobs.js';
import { choice, type CliContext } from '../cli-context.js';
import { withEngine } from '../cli-engine.js';

const BACKEND_IDS: readonly BackendId[] = ['modal', 'cloud-run'];

interface Flags extends CloudFlags {
  backend?: BackendId;
  function?: string;
  json?: boolean;
}

function withCloudFlags(cmd: Command): Command {
  return cmd
    .option('--profile <name>', 'development | staging | production')
    .option('--modal-url <template>', 'Modal URL template with {function}')
    .option('--cloudrun-url <url>', 'Cloud Run Boltz-2 service base URL')
    .option('--json', 'machine-readable output');
}

function flagsOf(f: Flags): CloudFlags {
  return { ...(f.profile ? { profile: f.profile } : {}), ...(f.modalUrl ? { modalUrl: f.modalUrl } : {}), ...(f.cloudRunUrl ? { cloudRunUrl: f.cloudRunUrl } : {}) };
}

/** The engine's cloud options for a command: its flags over the environment and the settings file. */
function cloudOptions(f: Flags = {}): EngineDeps['cloud'] {
  return { flags: flagsOf(f) };
}

/** A job the engine runs, to its end; while a remote call waits, its status line (the job's phase) on stderr. */
function awaitPrinting(ctx: CliContext, engine: Engine, id: string, quiet: boolean): Promise<ApiJob> {
  let last: string | null = null;
  return awaitJob(engine, id, (u) => {
    if (quiet || !u.phase || u.phase === last) return;
    last = u.phase;
    ctx.stderr.write(`  ${u.phase}\n`);
  });
}

function out(ctx: CliContext, f: { json?: boolean }, value: unknown, text: () => string): void {
  ctx.stdout.write(f.json ? JSON.stringify(value, null, 2) + '\n' : text());
}

export function registerCloud(program: Command, ctx: CliContext): void {
  const cloud = program.command('cloud').description('remote backends: config, health, warmup, routing, prices, budget, costs and alerts');

  withCloudFlags(cloud.command('config').description('the active profile, backend URLs, token presence (never the token), routing and budget')).action(async (f: Flags) => {
    // URLs may hold a password or a signed query: the API's answer is redacted, text and JSON alike.
    const cfg = await withEngine(ctx, { readOnly: true, cloud: cloudOptions(f) }, (engine) => engine.api['cloud.config']({}));
    out(ctx, f, cfg, () =>
      [
        `profile        ${cfg.profile} (from ${cfg.sources.profile})`,
        `settings file  ${cfg.settingsPath}`,
        `modal          ${cfg.modal.urlTemplate ?? '(not set: TANDEM_MODAL_URL_TEMPLATE)'}${cfg.sources.modalUrl ? ` (from ${cfg.sources.modalUrl})` : ''}`,
        `  token        ${cfg.modal.hasToken ? 'set' : 'not set'} (${cfg.modal.tokenEnv})`,
        `cloud-run      ${cfg.cloudRun.url ?? '(not set: TANDEM_CLOUDRUN_URL)'}${cfg.sources.cloudRunUrl ? ` (from ${cfg.sources.cloudRunUrl})` : ''}`,
        `  token        ${cfg.cloudRun.hasToken ? 'set' : 'not set'} (${cfg.cloudRun.tokenEnv})`,
        `routing        ${ROUTED_KINDS.map((k) => `${k}=${cfg.routing[k]}`).join(' ')}`,
        `budget         ${cfg.budget ? `${formatUsd(cfg.budget.monthlyUsd)}/month, ${cfg.budget.action}` : 'none'}`,
        `local embed    ${cfg.localEmbedModel}`,
      ].join('\n') + '\n',
    );
  });

  withCloudFlags(cloud.command('health').description('probe each backend (or one) and report status, model, GPU and latency'))
    .option('--backend <b>', 'modal | cloud-run', choice(BACKEND_IDS))
    .option('--function <name>', 'Modal health function, e.g. qwen-80b-health or embed-health')
    .action(async (f: Flags) => {
      const { backends: rows } = await withEngine(ctx, { readOnly: true, cloud: cloudOptions(f) }, (engine) =>
        engine.api['cloud.health']({ ...(f.backend ? { backend: f.backend } : {}), ...(f.function ? { function: f.function } : {}) }),
      );
      out(ctx, f, rows, () =>
        formatTable(
          ['backend', 'function', 'status', 'model', 'gpu', 'latency'],
          rows.map((r) => (r.error ? [r.backend, '-', `error: ${describeError(new TandemError(r.error.code as 'INTERNAL', r.error.message))}`, '-', '-', '-'] : [r.backend, String(r.function), String(r.status), r.model ?? '-', r.gpu ?? '-', formatDuration(r.latencyMs)])),
        ),
      );
      if (rows.some((r) => r.error)) ctx.setExitCode(1);
    });

  withCloudFlags(cloud.command('warmup').description('load the model ahead of time; prints the measured cold start (recorded as a job with its cost)'))
    .option('--backend <b>', 'modal | cloud-run', choice(BACKEND_IDS), 'modal')
    .option('--function <name>', 'warmup function, e.g. qwen-80b-warmup or embed-warmup')
    .action(async (f: Flags) => {
      const backend = f.backend ?? 'modal';
      await withEngine(ctx, { cloud: cloudOptions(f) }, async (engine) => {
        const { jobId } = await engine.api['cloud.warmup']({ backend, ...(f.function ? { function: f.function } : {}) });
        // while it waits: the status line (cold start, polls) on stderr, as the job's phase
        const job = await awaitPrinting(ctx, engine, jobId, f.json === true);
        const r = job.result as { modelLoadMs?: number; totalMs?: number; coldStart?: boolean; function?: string } | null;
        out(ctx, f, job, () =>
          job.status === 'succeeded'
            ? `${f.backend} ${r?.function}: ${r?.coldStart ? `cold start ${formatDuration(r.modelLoadMs ?? 0)}` : 'already warm'}, total ${formatDuration(r?.totalMs ?? 0)}, cost ${formatUsd(job.costUsd)} (job ${job.id})\n`
            : `warmup ${job.status}: ${job.error?.code}: ${job.error?.message} (job ${job.id})\n`,
        );
        if (job.status !== 'succeeded') ctx.setExitCode(1);
      });
    });

  cloud
    .command('route [kind] [policy]')
    .description(`show the routing policies, or set one: KIND (${ROUTED_KINDS.join(', ')}) POLICY (${POLICIES.join(', ')}); e.g. \`tandem cloud route boltz2 modal\` moves Boltz-2 to Modal`)
    .option('--json', 'machine-readable output')
    .action(async (kind: string | undefined, policy: string | undefined, f: { json?: boolean }) => {
      if (kind !== undefined) {
        if (!(ROUTED_KINDS as readonly string[]).includes(kind)) throw new TandemError('INVALID_ARGUMENT', `unknown job kind ${JSON.stringify(kind)}; one of ${ROUTED_KINDS.join(', ')}`);
        if (policy === undefined || !(POLICIES as readonly string[]).includes(policy)) throw new TandemError('INVALID_ARGUMENT', `give a policy for ${kind}: one of ${POLICIES.join(', ')}`);
      }
      // The active profile's routing, as the Cloud page writes it.
      const routing = await withEngine(ctx, { readOnly: kind === undefined }, async (engine) =>
        kind !== undefined ? (await engine.api['cloud.setRoute']({ kind: kind as RoutedKind, policy: policy as Policy })).routing : (await engine.api['cloud.config']({})).routing,
      );
      out(ctx, f, routing, () => ROUTED_KINDS.map((k) => `${k.padEnd(13)} ${routing[k]}`).join('\n') + '\n');
    });

  cloud
    .command('budget')
    .description('show or set the monthly budget for remote jobs')
    .option('--monthly <usd>', 'budget in USD per calendar month (0 blocks everything with --action block)', Number)
    .option('--action <a>', 'warn | block when a job would go over it', choice(['warn', 'block'] as const))
    .option('--clear', 'remove the budget')
    .option('--json', 'machine-readable output')
    .action(async (f: { monthly?: number; action?: 'warn' | 'block'; clear?: boolean; json?: boolean }) => {
      const writes = f.clear || f.monthly !== undefined || f.action !== undefined;
      const b = await withEngine(ctx, { readOnly: !writes }, async (engine) => {
        const current = (await engine.api['cloud.config']({})).budget;
        // The active profile's budget, as the Cloud page writes it (--clear: none for this profile).
        if (f.clear) return (await engine.api['cloud.setBudget']({ monthlyUsd: null })).budget;
        if (!writes) return current;
        const monthlyUsd = f.monthly ?? current?.monthlyUsd;
        if (monthlyUsd === undefined || !Number.isFinite(monthlyUsd) || monthlyUsd < 0) throw new TandemError('INVALID_ARGUMENT', '--monthly must be a number of USD >= 0');
        return (await engine.api['cloud.setBudget']({ monthlyUsd, action: f.action ?? current?.action ?? 'warn' })).budget;
      });
      out(ctx, f, b, () => (b ? `${formatUsd(b.monthlyUsd)} per month, ${b.action} when exceeded\n` : 'no budget set\n'));
    });

  cloud
    .command('prices')
    .description('the price table (USD per GPU-hour); set one with --backend B --gpu TYPE --rate USD')
    .option('--backend <b>', 'modal | cloud-run', choice(BACKEND_IDS))
    .option('--gpu <type>', 'e.g. A10G, L4, A100-80GB, H100')
    .option('--rate <usd>', 'USD per GPU-hour', Number)
    .option('--json', 'machine-readable output')
    .action(async (f: { backend?: BackendId; gpu?: string; rate?: number; json?: boolean }) => {
      const writes = !!(f.backend || f.gpu || f.rate !== undefined);
      if (writes && (!f.backend || !f.gpu || f.rate === undefined || !Number.isFinite(f.rate) || f.rate <= 0)) throw new TandemError('INVALID_ARGUMENT', 'to set a price give --backend, --gpu and a positive --rate');
      const prices = await withEngine(ctx, { readOnly: !writes }, async (engine) => {
        if (writes) await engine.api['cloud.setPrice']({ backend: f.backend!, gpu: f.gpu!, rate: f.rate! });
        return (await engine.api['cloud.config']({})).prices;
      });
      out(ctx, f, prices, () => formatTable(['backend', 'gpu', 'usd/gpu-hour'], BACKEND_IDS.flatMap((b) => Object.entries(prices[b] ?? {}).map(([g, r]) => [b, g, r.toFixed(2)])), [2]));
    });

  cloud
    .command('costs')
    .description('this month: spend by kind and backend, the monthly projection, the budget, and alerts')
    .option('--json', 'machine-readable output')
    .action(async (f: { json?: boolean }) => {
      const c = await withEngine(ctx, { readOnly: true }, (engine) => engine.api['cloud.costs']({}));
      const { month: m, budget, alerts } = c;
      out(ctx, f, c, () => {
        const lines = [
          `${m.month}: spent ${formatUsd(m.spentUsd)} on ${m.jobs} jobs; projected ${formatUsd(m.projectedUsd)} for the month (${m.daysElapsed.toFixed(1)} of ${m.daysInMonth} days)`,
          `budget: ${budget ? `${formatUsd(budget.monthlyUsd)} (${budget.action})` : 'none'}`,
        ];
        if (m.byKindBackend.length) lines.push(formatTable(['kind', 'backend', 'jobs', 'usd'], m.byKindBackend.map((r) => [r.kind, r.backend, String(r.jobs), formatUsd(r.usd)]), [2, 3]).trimEnd());
        lines.push(alerts.length ? alerts.map((a) => `ALERT [${a.severity}] ${a.rule} ${a.scope}: ${a.message}`).join('\n') : 'no alerts');
        return lines.join('\n') + '\n';
      });
    });
}
