import { createEngine, type Engine } from '../../engine/index.js';
import { describeError } from '../../engine/common/errors.js';
import type { CliContext } from './cli-context.js';

/**
 * A command's engine: the same assembly the web host and the desktop app use (`createEngine`),
 * in-process. `readOnly` for commands that only read (they work on a read-only TANDEM_HOME).
 * The engine is closed when `fn` ends, however it ends.
 */
export async function withEngine<T>(ctx: CliContext, opts: { readOnly?: boolean }, fn: (engine: Engine) => T | Promise<T>): Promise<T> {
  const engine = createEngine({
    env: ctx.env,
    host: 'cli',
    ...(opts.readOnly ? { readOnly: true } : {}),
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
