/**
 * Cloud fixtures: `tandem emulate` (the Modal + Cloud Run emulator, cloud-emulator/) as a child
 * process with brisk delays, and a `tandem serve` host pointed at it through
 * TANDEM_MODAL_URL_TEMPLATE / TANDEM_CLOUDRUN_URL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot, startHost, stopHost, test as base, type RunningHost } from './fixtures';

/** Real delays x this: Boltz-2 cold start 45 s -> 225 ms, 90 s per ligand -> 450 ms, Qwen-32B cold start 6 min -> 1.8 s. */
export const EMULATOR_TIME_SCALE = '0.005';

export interface RunningEmulator {
  url: string;
  modalTemplate: string;
  cloudRunUrl: string;
  proc: ChildProcess;
}

export async function startEmulatorProcess(timeScale = EMULATOR_TIME_SCALE): Promise<RunningEmulator> {
  const proc = spawn(process.execPath, [path.join(repoRoot, 'bin', 'tandem.js'), 'emulate', '--port', '0', '--time-scale', timeScale], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise<RunningEmulator>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tandem emulate printed no URL within 30 s; stderr:\n${err}`)), 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+).*TANDEM_MODAL_URL_TEMPLATE=(\S+) TANDEM_CLOUDRUN_URL=(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, modalTemplate: m[2]!, cloudRunUrl: m[3]!, proc });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tandem emulate exited (${code}) before printing its URL; stderr:\n${err}`));
    });
  });
}

export async function stopEmulator(e: RunningEmulator): Promise<void> {
  if (e.proc.exitCode !== null || e.proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => e.proc.once('exit', () => resolve()));
  e.proc.kill('SIGTERM');
  await exited;
}

interface CloudFixtures {
  emulator: RunningEmulator;
  /** A `tandem serve` on a fresh TANDEM_HOME with the emulator as its cloud. */
  cloudHost: RunningHost;
}

export const test = base.extend<CloudFixtures>({
  // eslint-disable-next-line no-empty-pattern
  emulator: async ({}, use) => {
    const e = await startEmulatorProcess();
    await use(e);
    await stopEmulator(e);
  },
  cloudHost: async ({ tmp, emulator }, use) => {
    const h = await startHost(path.join(tmp, 'home'), {
      TANDEM_MODAL_URL_TEMPLATE: emulator.modalTemplate,
      TANDEM_CLOUDRUN_URL: emulator.cloudRunUrl,
      TANDEM_CLOUD_POLL_MS: '100',
      TANDEM_PROFILE: 'development',
    });
    await use(h);
    await stopHost(h);
  },
});

export { expect } from './fixtures';
