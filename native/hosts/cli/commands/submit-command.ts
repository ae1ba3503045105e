import fs from 'node:fs';
import type { Command } from 'commander';
import { type CloudRequest, type GenerateRequest, type QwenModel, parseBatchJson, parseComplexJson, POLICIES, type CloudFlags, type Policy, loadChemToolkit, formatDuration, formatUsd, type Job, type RoutePlan } from '../../../engine/index.js';
import { ligandWarnings } from '../../../engine/common/boltz-validate.js';
import { TandemError, type JsonValue } from '../../../engine/common/errors.js';
import type { ApiInput, ApiJob } from '../../../engine/common/api-contract.js';
import { awaitJob, cancelOnCtrlC } from '../api-jobs.js';
import { choice, positiveInt, type CliContext } from '../cli-context.js';
import { withEngine } from '../cli-engine.js';
import { runInBackground } from '../cloud-host.js';
import { readInputFile } from '../input.js';

interface CommonFlags extends CloudFlags {
  backend?: Policy;
  wait?: boolean;
  json?: boolean;
  quiet?: boolean;
  priority?: number;
}

const QWEN: readonly QwenModel[] = ['qwen-32b', 'qwen-80b', 'qwen-480b'];

function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TandemError('NOT_FOUND', `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TandemError('INVALID_INPUT', `${what} ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function common(cmd: Command): Command {
  return cmd
    .option('--backend <policy>', `where to run it: ${POLICIES.join(' | ')} (default: the routing policy of this kind)`, choice(POLICIES))
    .option('--wait', 'stay until the job ends: progress on stderr, then the result summary')
    .option('--json', 'machine-readable output (the job record)')
    .option('--quiet', 'no progress on stderr')
    .option('--priority <n>', 'higher runs first', Number)
    .option('--profile <name>', 'development | staging | production (over TANDEM_PROFILE and the settings file)')
    .option('--modal-url <template>', 'Modal URL template with {function} (over TANDEM_MODAL_URL_TEMPLATE)')
    .option('--cloudrun-url <url>', 'Cloud Run Boltz-2 service base URL (over TANDEM_CLOUDRUN_URL)');
}

function flagsOf(f: CommonFlags): CloudFlags {
  return { ...(f.profile ? { profile: f.profile } : {}), ...(f.modalUrl ? { modalUrl: f.modalUrl } : {}), ...(f.cloudRunUrl ? { cloudRunUrl: f.cloudRunUrl } : {}) };
}

export function summary(job: Job): string {
  const lines: string[] = [];
  const t = job.timings;
  const run = t.startedAt && t.finishedAt ? Date.parse(t.finishedAt) - Date.parse(t.startedAt) : null;
  lines.push(`job ${job.id} ${job.kind} ${job.status} on ${job.backend}${job.device ? ` (${job.device})` : ''}`);
  lines.push(
    `  time ${formatDuration(run)}: queue ${formatDuration(t.queueMs)}, cold start/load ${formatDuration(t.loadMs)}, inference ${formatDuration(t.inferenceMs)}, transfer ${formatDuration(t.transferMs)}; cost ${formatUsd(job.costUsd)}` +
      (typeof (job.params as { route?: { estimateUsd?: number } }).route?.estimateUsd === 'number'
        ? ` (estimate ${formatUsd((job.params as { route: { estimateUsd: number } }).route.estimateUsd)}${(job.params as { route: { estimateAssumed?: string } }).route.estimateAssumed ? `, assumed ${(job.params as { route: { estimateAssumed: string } }).route.estimateAssumed}` : ''})`
        : ''),
  );
  const route = (job.params as { route?: { reason?: string; estimateAssumed?: string | null } }).route;
  if (route?.reason) lines.push(`  routed: ${route.reason}`);
  const answered = answeredLine(job);
  if (answered) lines.push(`  ${answered}`);
  if (job.error) lines.push(`  error ${job.error.code}: ${job.error.message}`);
  const r = job.result as Record<string, JsonValue> | null;
  if (r && typeof r === 'object' && !Array.isArray(r)) {
    if (job.kind === 'boltz2') {
      const c = r.confidence as Record<string, JsonValue> | undefined;
      if (c) lines.push(`  confidence ${Object.entries(c).map(([k, v]) => `${k}=${typeof v === 'number' ? v.toFixed(3) : String(v)}`).join(' ')}`);
      const a = r.affinity as Record<string, JsonValue> | null | undefined;
      if (a) lines.push(`  affinity ${Object.entries(a).map(([k, v]) => `${k}=${typeof v === 'number' ? v.toFixed(3) : String(v)}`).join(' ')}`);
    }
    if (job.kind === 'generate' && r.output !== undefined) lines.push(JSON.stringify(r.output, null, 2));
    if (job.kind === 'embed-remote') lines.push(`  ${String(r.count)} vectors of ${String(r.dims)} dims from ${String(r.model)}`);
    if (job.kind === 'boltz2-batch' && Array.isArray(r.ligands)) lines.push(`  ${r.ligands.length} ligands`);
    const files = r.files as Record<string, JsonValue> | undefined;
    if (files) for (const [k, v] of Object.entries(files)) if (v) lines.push(`  ${k}: ${String(v)}`);
    if (Array.isArray(r.ligands)) for (const l of r.ligands as Record<string, JsonValue>[]) lines.push(`  ${String(l.ligandId)}: ${String(l.structure)}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Who answered, plainly, and whether it is the model asked for: "answered by
 * onnx-community/Qwen2.5-0.5B-Instruct on this machine (cpu), NOT qwen-32b as asked".
 */
export function answeredLine(job: Job): string | null {
  const a = (job.result as { answeredBy?: { model?: unknown; where?: unknown; device?: unknown; substitutedFor?: unknown } } | null)?.answeredBy;
  if (!a || typeof a.model !== 'string') return null;
  const where = typeof a.where === 'string' ? a.where : job.backend === 'local' ? 'this machine' : job.backend;
  const device = job.backend === 'local' && typeof a.device === 'string' ? ` (${a.device})` : '';
  const instead = typeof a.substitutedFor === 'string' && a.substitutedFor !== a.model ? `, NOT ${a.substitutedFor} as asked: a different model answered` : '';
  return `answered by ${a.model} on ${where}${device}${instead}`;
}

/** The plan in words: where, why, the estimate assumed and the other figure. */
export function planLines(plan: RoutePlan): string[] {
  const lines: string[] = [];
  const where = plan.function ? `${plan.backend} ${plan.function}` : plan.backend;
  lines.push(`${where}: ${plan.reason}`);
  const e = plan.estimates;
  if (e) {
    const other = e.assumed === 'warm' ? 'cold' : 'warm';
    lines.push(`  estimated ${formatUsd(e[e.assumed].usd)} assuming ${e.assumed} (${e.why}); ${formatUsd(e[other].usd)} if ${other}; basis ${e[e.assumed].basis}`);
  } else if (plan.estimate) {
    lines.push(`  estimated ${formatUsd(plan.estimate.usd)} (${plan.estimate.basis})`);
  }
  const a = plan.answeredBy;
  if (a?.substitutedFor) lines.push(`  answered by ${a.model} on ${a.where}, NOT ${a.substitutedFor} as asked`);
  return lines;
}

/** The plan's figures and the request's warnings, on stderr, before anything runs. */
function reportPlan(ctx: CliContext, req: CloudRequest, plan: RoutePlan, f: CommonFlags): void {
  // A `block` budget refuses the job at submit (BUDGET_EXCEEDED); a `warn` one is said here.
  if (plan.budget && !plan.budget.ok && plan.budget.action === 'block') return;
  if (plan.budget && !plan.budget.ok) ctx.stderr.write(`tandem submit: budget warning: ${plan.budget.message}\n`);
  if (req.kind === 'boltz2' || req.kind === 'boltz2-batch') for (const w of ligandWarnings(req.ligands, { affinity: req.affinity === true })) ctx.stderr.write(`tandem submit: warning: ${w.field}: ${w.message}\n`);
  if (!f.quiet) ctx.stderr.write(`tandem submit: ${planLines(plan).join('\n')}\n`);
}

async function submitAndReport(ctx: CliContext, req: CloudRequest, f: CommonFlags): Promise<void> {
  const request = req as ApiInput<'cloud.submit'>['request'];
  const opts = { ...(f.backend ? { policy: f.backend } : {}), ...(f.priority !== undefined ? { priority: f.priority } : {}) };
  await withEngine(ctx, { cloud: { flags: flagsOf(f) } }, async (engine) => {
    if (!f.wait) {
      // Recorded here, run by a detached `tandem jobs resume ID`.
      const { jobId, plan: recorded } = await engine.api['cloud.submit']({ request, ...opts, detached: true });
      reportPlan(ctx, req, recorded as RoutePlan, f);
      const { job } = await engine.api['jobs.show']({ id: jobId });
      const log = runInBackground(ctx, job.id);
      if (f.json) ctx.stdout.write(JSON.stringify(job, null, 2) + '\n');
      else ctx.stdout.write(`${job.id}\n`);
      if (!f.quiet) ctx.stderr.write(log ? `tandem submit: running in the background (log ${log}); follow with \`tandem jobs show ${job.id}\`\n` : `tandem submit: queued; run it with \`tandem jobs resume ${job.id}\`\n`);
      return;
    }
    const { plan } = await engine.api['cloud.plan']({ request, ...(f.backend ? { policy: f.backend } : {}) });
    reportPlan(ctx, req, plan as RoutePlan, f);
    // While it runs, the UI's events: notes (per-ligand results), progress, the wait status line
    // (the job's phase, TANDEM_CLOUD_STATUS_MS) and a local generation's text, on stderr.
    const quiet = f.quiet === true;
    const streams = !quiet && !f.json;
    let jobId: string | undefined;
    let streaming = false;
    let lastProgress = '';
    let lastPhase: string | null = null;
    // Ctrl-C cancels the job (once its id is known) through jobs.cancel.
    const ctrlC = cancelOnCtrlC(engine);
    const offs = [
      engine.events.on('job.updated', (u) => {
        if (u.job.kind !== req.kind || (jobId ??= u.job.id) !== u.job.id) return;
        ctrlC.watch(jobId);
        if (quiet) return;
        const p = u.job.progress.total ? `${u.job.progress.done}/${u.job.progress.total}` : '';
        if (!(streams && req.kind === 'generate') && p && p !== lastProgress) {
          lastProgress = p;
          ctx.stderr.write(`  progress ${p}\n`);
        }
        if (u.phase && u.phase !== lastPhase && u.job.status === 'running') {
          lastPhase = u.phase;
          ctx.stderr.write(`  ${u.phase}\n`);
        }
      }),
      engine.events.on('job.event', (e) => {
        if (!quiet && e.jobId === jobId && e.type === 'note' && typeof e.data.note === 'string') ctx.stderr.write(`  ${e.data.note}\n`);
      }),
      engine.events.on('generate.token', (t) => {
        if (!streams || t.jobId !== jobId) return;
        streaming = true;
        ctx.stderr.write(t.text);
      }),
    ];
    let job: ApiJob;
    try {
      const submitted = await engine.api['cloud.submit']({ request, ...opts });
      jobId = submitted.jobId;
      ctrlC.watch(jobId);
      if (!f.json) ctx.stdout.write(`${submitted.jobId}\n`);
      job = await awaitJob(engine, submitted.jobId);
    } finally {
      for (const off of offs) off();
      ctrlC.off();
      if (streaming) ctx.stderr.write('\n');
    }
    if (f.json) ctx.stdout.write(JSON.stringify(job, null, 2) + '\n');
    else ctx.stdout.write(summary(job as unknown as Job));
    if (job.status === 'failed') ctx.setExitCode(1);
    if (job.status === 'cancelled') ctx.setExitCode(130);
  });
}

export function registerSubmit(program: Command, ctx: CliContext): void {
  const submit = program.command('submit').description('record a remote job (Boltz-2, Qwen generation, instructor-xl embeddings) and run it; prints its id');

  common(
    submit
      .command('boltz2')
      .description('one complex on the Boltz-2 service: --protein SEQ... --ligand SMILES... [--affinity], or --input complex.json')
      .option('--protein <seq...>', 'protein sequences (chains A, B, ...)')
      .option('--ligand <smiles...>', 'ligands as SMILES (ids L1, L2, ...)')
      .option('--ccd <code...>', 'ligands as CCD codes')
      .option('--affinity', 'also predict binding affinity')
      .option('--name <name>', 'complex name (default: complex)')
      .option('--input <file>', 'complex.json: {"name","proteins":[{"id","sequence"}],"ligands":[{"id","smiles"|"ccd"}],"affinity"?}'),
  ).action(async (f: CommonFlags & { protein?: string[]; ligand?: string[]; ccd?: string[]; affinity?: boolean; name?: string; input?: string }) => {
    await loadChemToolkit(); // every ligand SMILES is read by RDKit before anything is recorded or sent
    let req: CloudRequest;
    if (f.input) {
      if (f.protein || f.ligand || f.ccd) throw new TandemError('INVALID_ARGUMENT', 'use either --input or --protein/--ligand/--ccd, not both');
      req = parseComplexJson(readJsonFile(f.input, 'complex file'));
      if (f.affinity) req = { ...req, affinity: true };
    } else {
      if (!f.protein?.length) throw new TandemError('INVALID_ARGUMENT', 'give at least one --protein SEQUENCE (or --input complex.json)');
      const chains = 'ABCDEFGHIJKL';
      req = {
        kind: 'boltz2',
        name: f.name ?? 'complex',
        proteins: f.protein.map((sequence, i) => ({ id: chains[i] ?? `P${i + 1}`, sequence })),
        ligands: [...(f.ligand ?? []).map((smiles, i) => ({ id: `L${i + 1}`, smiles })), ...(f.ccd ?? []).map((ccd, i) => ({ id: `C${i + 1}`, ccd: ccd.toUpperCase() }))],
        ...(f.affinity ? { affinity: true } : {}),
      };
    }
    await submitAndReport(ctx, req, f);
  });

  common(submit.command('boltz2-batch').description('many ligands against the same proteins, with per-ligand progress; survives restarts').requiredOption('--input <file>', 'batch.json: {"name","proteins":[...],"ligands":[...many...],"affinity"?}')).action(
    async (f: CommonFlags & { input: string }) => {
      await loadChemToolkit();
      await submitAndReport(ctx, parseBatchJson(readJsonFile(f.input, 'batch file')), f);
    },
  );

  common(
    submit
      .command('generate')
      .description('JSON-Schema-constrained generation with Qwen on Modal')
      .option('--prompt <text>', 'the prompt')
      .option('--prompt-file <file>', 'read the prompt from a file')
      .requiredOption('--schema <file>', 'JSON Schema the output must follow')
      .option('--model <m>', QWEN.join(' | '), choice(QWEN), 'qwen-32b')
      .option('--max-tokens <n>', 'max tokens to generate', positiveInt)
      .option('--temperature <t>', 'sampling temperature (0-2)', Number),
  ).action(async (f: CommonFlags & { prompt?: string; promptFile?: string; schema: string; model: QwenModel; maxTokens?: number; temperature?: number }) => {
    if ((f.prompt === undefined) === (f.promptFile === undefined)) throw new TandemError('INVALID_ARGUMENT', 'give exactly one of --prompt TEXT or --prompt-file FILE');
    const prompt = f.prompt ?? fs.readFileSync(f.promptFile!, 'utf8');
    const schema = readJsonFile(f.schema, 'schema file');
    if (!schema || typeof schema !== 'object' || Array.isArray(schema)) throw new TandemError('INVALID_INPUT', `schema file ${f.schema} must hold a JSON Schema object`);
    const req: GenerateRequest = {
      kind: 'generate',
      model: f.model,
      prompt,
      schema: schema as GenerateRequest['schema'],
      ...(f.maxTokens ? { maxTokens: f.maxTokens } : {}),
      ...(f.temperature !== undefined ? { temperature: f.temperature } : {}),
    };
    await submitAndReport(ctx, req, f);
  });

  common(
    submit
      .command('embed-remote')
      .description('embed texts with instructor-xl on Modal (falls back to the local model when Modal keeps failing)')
      .requiredOption('--input <file>', 'texts: .txt (one per line) or .jsonl ({"id"?, "text"})')
      .option('--instruction <text>', 'instructor-xl instruction, e.g. "Represent the science paragraph:"'),
  ).action(async (f: CommonFlags & { input: string; instruction?: string }) => {
    const parsed = readInputFile(f.input);
    if (parsed.problems.length > 0) {
      const p = parsed.problems[0]!;
      throw new TandemError('INVALID_INPUT', `${f.input}: ${parsed.problems.length} bad lines, first at line ${p.line}: ${p.message}`);
    }
    await submitAndReport(ctx, { kind: 'embed-remote', texts: parsed.items.map((i) => i.text), ...(f.instruction ? { instruction: f.instruction } : {}) }, f);
  });
}
