import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tandemHome } from '../../engine/index.js';
import type { CliContext } from './cli-context.js';

/**
 * Run a recorded job in a detached `tandem jobs resume ID` process, so `tandem submit` without
 * --wait returns at once and the job still runs to the end. Its output goes to
 * $TANDEM_HOME/logs/<job>.log. Returns false when this process was not started as the CLI.
 */
export function runInBackground(ctx: CliContext, jobId: string): string | null {
  const entry = process.argv[1];
  if (!entry || !/(tandem(\.js)?|cli\.js|bin\.ts)$/.test(entry)) return null;
  const logs = path.join(tandemHome(ctx.env), 'logs');
  fs.mkdirSync(logs, { recursive: true });
  const log = path.join(logs, `${jobId}.log`);
  const fd = fs.openSync(log, 'a');
  try {
    const child = spawn(process.execPath, [...process.execArgv, entry, 'jobs', 'resume', jobId], { detached: true, stdio: ['ignore', fd, fd], env: ctx.env });
    child.unref();
  } finally {
    fs.closeSync(fd);
  }
  return log;
}
