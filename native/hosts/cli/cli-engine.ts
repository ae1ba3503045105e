import { createEngine, type Engine, type EngineDeps } from '../../engine/index.js';
import { describeError } from '../../engine/common/errors.js';
import type { CliContext } from './cli-context.js';

/**
 * A command's engine: the same assembly the web host and the desktop app use (`createEngine`),
 * in-process. `readOnly` for commands that only read (they work on a read-only TANDEM_HOME).
 * `cloud`: the cloud service's options (a command's --profile/--modal-url flags, its status interval).
 * The engine is closed when `fn` ends, however it ends.
 */
export async function withEngine<T>(ctx: CliContext, opts: { readOnly?: boolean; cloud?: EngineDeps['cloud'] }, fn: (engine: Engine) => T | Promise<T>): Promise<T> {
  const engine = createEngine({
    env: ctx.env,
    host: 'cli',
    ...(opts.readOnly ? { readOnly: true } : {}),
    ...(opts.cloud ? { cloud: opts.cloud } : {}),
    onError: (e) => {
      if (ctx.env.TANDEM_DEBUG) ctx.stderr.write(`tandem: ${describeError(e)}\n`);
    },
  });
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}
