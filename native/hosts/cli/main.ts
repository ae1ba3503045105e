import { Command, CommanderError } from 'commander';
import { describeError, isTandemError, toWire } from '../../engine/common/errors.js';
import type { CliContext } from './cli-context.js';
import { registerCloud } from './commands/cloud-command.js';
import { registerCollections } from './commands/collections-command.js';
import { registerDoctor } from './commands/doctor-command.js';
import { registerEmbed } from './commands/embed-command.js';
import { registerEmulate } from './commands/emulate-command.js';
import { registerEval } from './commands/eval-command.js';
import { registerGenerate } from './commands/generate-command.js';
import { registerJobs } from './commands/jobs-command.js';
import { registerIndex } from './commands/index-command.js';
import { registerModels } from './commands/models-command.js';
import { registerSearch } from './commands/search-command.js';
import { registerRunOnnx } from './commands/run-onnx-command.js';
import { registerSubmit } from './commands/submit-command.js';
import { registerServe } from './commands/serve-command.js';

/** Exit codes: 0 ok, 1 failed, 2 bad arguments, 3 done with skipped items, 130 cancelled. */
export function exitCodeFor(e: unknown): number {
  if (isTandemError(e, 'CANCELLED')) return 130;
  if (isTandemError(e, 'INVALID_ARGUMENT')) return 2;
  return 1;
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('tandem')
    .description('Tandem: local embeddings, semantic search and cloud offload for researchers')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Environment:
  TANDEM_HOME        where all app data lives (default: the OS per-user app-data folder)
  TANDEM_MODELS_DIR  extra model directories (path list), searched before $TANDEM_HOME/models
  TANDEM_HF_ENDPOINT model download server (default https://huggingface.co)
  TANDEM_SEARCH_THREADS  vector scan threads (default: CPU count, at most 8)
  TANDEM_SEARCH_KERNEL   native-avx2 | native-scalar | js (default: best available)
  TANDEM_SEARCH_ADDON    path of a prebuilt tandem_search.node (scan kernels)
  TANDEM_IO_ADDON        path of a prebuilt tandem_io.node (embed's float32 text output)
  TANDEM_PROFILE     cloud profile: development | staging | production
  TANDEM_MODAL_URL_TEMPLATE  Modal endpoints, e.g. https://ws--app-{function}.modal.run
  TANDEM_MODAL_TOKEN         Modal proxy auth token (never stored or logged)
  TANDEM_CLOUDRUN_URL        Cloud Run Boltz-2 service base URL
  TANDEM_CLOUDRUN_TOKEN      Cloud Run ID token (never stored or logged)
  TANDEM_CLOUD_POLL_MS       interval between polls of a remote batch (default 2000); when set, also the least between 303 polls (default 1000)
  TANDEM_CLOUD_STATUS_MS     how often a waiting remote call prints its status line (default 5000)
  TANDEM_BUILTIN_MODELS_DIR  where the built-in model lives (default: models/builtin beside the app)
  TANDEM_NO_OPEN=1   npm start: serve the UI without opening a browser
  TANDEM_DEBUG       print stack traces on errors

Exit codes: 0 ok, 1 failed, 2 bad arguments, 3 finished but some input items were skipped, 130 cancelled.`,
    );
  program.exitOverride();
  registerDoctor(program, ctx);
  registerModels(program, ctx);
  registerEmbed(program, ctx);
  registerIndex(program, ctx);
  registerRunOnnx(program, ctx);
  registerGenerate(program, ctx);
  registerSearch(program, ctx);
  registerEval(program, ctx);
  registerCollections(program, ctx);
  registerJobs(program, ctx);
  registerCloud(program, ctx);
  registerSubmit(program, ctx);
  registerServe(program, ctx);
  registerEmulate(program, ctx);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  let exitCode = 0;
  const ctx: CliContext = { env: process.env, stdout: process.stdout, stderr: process.stderr, setExitCode: (c) => (exitCode = c) };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (process.env.TANDEM_DEBUG) console.error(e);
    if (isTandemError(e, 'CANCELLED')) process.stderr.write('tandem: cancelled\n');
    else process.stderr.write(`tandem: ${describeError(e)}\n`);
    if (process.argv.includes('--json')) process.stdout.write(JSON.stringify({ error: toWire(e) }) + '\n');
    return exitCodeFor(e);
  }
}
