import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './cli-run.js';

/** `tandem index DIR --json` from sources in a child process, with the child's peak RSS (getrusage: every thread). */
export async function indexWithRss(target: string, home: string, timeoutMs = 110_000): Promise<{ status: number | null; stdout: string; stderr: string; maxRssKb: number }> {
  const probe = path.join(home, 'rss-probe.mjs');
  fs.writeFileSync(probe, "process.on('exit', () => process.stderr.write(`\\nMAX_RSS_KB=${process.resourceUsage().maxRSS}\\n`));\n");
  const env = { ...process.env, TANDEM_HOME: home, TANDEM_MODELS_DIR: path.join(home, 'no-models') };
  const args = ['--import', 'tsx', '--import', probe, path.join(repoRoot, 'native', 'hosts', 'cli', 'bin.ts'), 'index', target, '--collection', 'x', '--model', 'minishlab/potion-base-2M', '--json', '--quiet'];
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('error', reject);
    c.on('close', (status) => {
      clearTimeout(t);
      const m = /MAX_RSS_KB=(\d+)/.exec(stderr);
      if (!m) return reject(new Error(`no RSS report (status ${status}): ${stderr.slice(-2000)}`));
      resolve({ status, stdout, stderr, maxRssKb: Number(m[1]) });
    });
  });
}
