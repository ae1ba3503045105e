import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(repoRoot, 'native', 'hosts', 'cli', 'bin.ts');

export interface CliRun {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * Run the CLI from sources in a child process, asynchronously: tests that serve HTTP from their own
 * process (the cloud emulator) must not block their event loop in spawnSync.
 */
export function runTandem(args: string[], env: NodeJS.ProcessEnv, opts: { timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--import', 'tsx', bin, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => c.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    c.on('close', (status, signal) => {
      clearTimeout(t);
      resolve({ status, signal, stdout, stderr });
    });
  });
}
