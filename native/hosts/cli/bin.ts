import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from './main.js';

/**
 * onnxruntime-node 1.30 overflows its stack while creating a session when the process command
 * line is long (its recursion depth grows with the bytes of argv; ~16 KB is enough to crash a
 * worker thread). Long arguments, such as `--text "<a whole paper>"`, are therefore handed to a
 * re-started process through a private temporary file, keeping the real command line short.
 */
const ARGV_LIMIT_BYTES = 8 * 1024;
const ARGS_FILE_ENV = 'TANDEM_INTERNAL_ARGS_FILE';

function argvBytes(args: string[]): number {
  return args.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
}

async function run(): Promise<number> {
  const argsFile = process.env[ARGS_FILE_ENV];
  if (argsFile) {
    delete process.env[ARGS_FILE_ENV];
    const args = JSON.parse(fs.readFileSync(argsFile, 'utf8')) as string[];
    fs.rmSync(argsFile, { force: true });
    return main([process.argv[0]!, process.argv[1]!, ...args]);
  }
  const args = process.argv.slice(2);
  if (argvBytes(args) <= ARGV_LIMIT_BYTES) return main();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-args-'));
  const file = path.join(dir, 'args.json');
  fs.writeFileSync(file, JSON.stringify(args), { mode: 0o600 });
  try {
    const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!], { stdio: 'inherit', env: { ...process.env, [ARGS_FILE_ENV]: file } });
    if (r.signal) process.kill(process.pid, r.signal);
    return r.status ?? 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await run();
