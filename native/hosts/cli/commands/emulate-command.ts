import { InvalidArgumentError, type Command } from 'commander';
import { FAULT_KINDS, startEmulator, type EmulatorOptions, type FaultKind } from '../../../../cloud-emulator/index.js';
import { TandemError } from '../../../engine/common/errors.js';
import type { CliContext } from '../cli-context.js';

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected an integer >= 0, got "${v}"`);
  return n;
}

function port(v: string): number {
  const n = nonNegativeInt(v);
  if (n > 65535) throw new InvalidArgumentError(`expected a port number 0-65535, got "${v}"`);
  return n;
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number > 0, got "${v}"`);
  return n;
}

function rate(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError(`expected a rate between 0 and 1, got "${v}"`);
  return n;
}

function faultKinds(v: string): FaultKind[] {
  const kinds = v.split(',').map((k) => k.trim()).filter((k) => k !== '');
  for (const k of kinds) {
    if (!(FAULT_KINDS as readonly string[]).includes(k)) throw new InvalidArgumentError(`unknown fault kind "${k}" (expected some of ${FAULT_KINDS.join(', ')})`);
  }
  if (kinds.length === 0) throw new InvalidArgumentError('expected a comma-separated list of fault kinds');
  return kinds as FaultKind[];
}

interface EmulateFlags {
  port: number;
  tokenEnv?: string;
  timeScale?: number;
  faultRate?: number;
  faults?: FaultKind[];
  seed?: number;
  redirectAfterMs?: number;
}

export function registerEmulate(program: Command, ctx: CliContext): void {
  program
    .command('emulate')
    .description('a local emulator of the Modal and Cloud Run backends (127.0.0.1), with fault injection')
    .option('--port <n>', 'port (0 picks a free one)', port, 0)
    .option('--token-env <VAR>', 'require `Authorization: Bearer <token>`, the token read from this environment variable')
    .option('--time-scale <x>', 'multiply every default delay (cold starts, inference, idle, 303) by x, e.g. 0.01', positiveNumber)
    .option('--fault-rate <r>', 'probability 0..1 that a protocol request gets a random fault', rate)
    .option('--faults <k1,k2>', `fault kinds to draw from (default all: ${FAULT_KINDS.join(',')})`, faultKinds)
    .option('--seed <n>', 'seed of the fault PRNG (default 1)', nonNegativeInt)
    .option('--redirect-after-ms <n>', 'Modal: a call still running after this answers 303', nonNegativeInt)
    .action(async (flags: EmulateFlags) => {
      const opts: EmulatorOptions = { port: flags.port };
      if (flags.tokenEnv !== undefined) {
        const token = ctx.env[flags.tokenEnv];
        if (!token) throw new TandemError('INVALID_ARGUMENT', `--token-env: the environment variable ${flags.tokenEnv} is not set or empty`);
        opts.token = token;
      }
      if (flags.timeScale !== undefined) opts.timeScale = flags.timeScale;
      if (flags.redirectAfterMs !== undefined) opts.redirectAfterMs = flags.redirectAfterMs;
      if (flags.faultRate !== undefined && flags.faultRate > 0) {
        opts.faults = { rate: flags.faultRate, ...(flags.faults ? { kinds: flags.faults } : {}), ...(flags.seed !== undefined ? { seed: flags.seed } : {}) };
      } else if (flags.faults || flags.seed !== undefined) {
        throw new TandemError('INVALID_ARGUMENT', '--faults and --seed need --fault-rate R (R > 0)');
      }
      const emu = await startEmulator(opts);
      ctx.stdout.write(`emulator listening on ${emu.url}; point Tandem at it with: TANDEM_MODAL_URL_TEMPLATE=${emu.modalTemplate} TANDEM_CLOUDRUN_URL=${emu.cloudRunUrl}\n`);
      const notes = [
        opts.token ? `bearer token required (from $${flags.tokenEnv})` : 'no token required',
        opts.faults ? `random faults at rate ${opts.faults.rate} (${(opts.faults.kinds ?? FAULT_KINDS).join(', ')})` : 'no random faults',
        `control: GET ${emu.url}/_emulator/stats`,
      ];
      ctx.stderr.write(`tandem emulate: ${notes.join('; ')}; Ctrl-C to stop\n`);
      const signal = await new Promise<string>((resolve) => {
        const stop = (s: string) => {
          process.off('SIGINT', onInt);
          process.off('SIGTERM', onTerm);
          resolve(s);
        };
        const onInt = () => stop('SIGINT');
        const onTerm = () => stop('SIGTERM');
        process.on('SIGINT', onInt);
        process.on('SIGTERM', onTerm);
      });
      const stats = emu.stats();
      await emu.close();
      ctx.stderr.write(`tandem emulate: ${signal}, stopped after ${stats.requests} requests\n`);
      ctx.setExitCode(0);
    });
}
