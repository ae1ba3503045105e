import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { createApiService } from '../../api/api-service.js';
import { describeError } from '../../engine/common/errors.js';
import { osOpen } from '../../host/os-open.js';
import { startWebHost } from '../../host/web-host.js';
import type { CliContext } from '../cli-context.js';

/** The built renderer: dist/renderer beside the CLI bundle (dist/cli.js), or from the sources. */
export function defaultRendererDir(): string {
  const candidates = [new URL('./renderer/', import.meta.url), new URL('../../../dist/renderer/', import.meta.url)];
  const found = candidates.find((c) => fs.existsSync(new URL('index.html', c)));
  return fileURLToPath(found ?? candidates[candidates.length - 1]!);
}

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port number 0-65535, got "${v}"`);
  return n;
}

export function registerServe(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('the desktop UI in your browser: a web host on 127.0.0.1 behind a session token')
    .option('--port <n>', 'port (0 picks a free one)', port, 0)
    .option('--open', 'open the browser (and let the UI open result files with the OS opener)')
    .option('--host-dir <dir>', 'the built renderer to serve (default: dist/renderer)')
    .action(async (flags: { port: number; open?: boolean; hostDir?: string }) => {
      const service = createApiService({
        env: ctx.env,
        host: 'web',
        ...(flags.open ? { openFile: (f: string) => osOpen(f) } : {}),
        onError: (e) => {
          if (ctx.env.TANDEM_DEBUG) ctx.stderr.write(`tandem serve: ${describeError(e)}\n`);
        },
      });
      let host;
      try {
        host = await startWebHost({ service, port: flags.port, staticDir: flags.hostDir ?? defaultRendererDir() });
      } catch (e) {
        await service.close();
        throw e;
      }
      ctx.stdout.write(`Tandem is running at ${host.url}\n`);
      ctx.stderr.write('tandem serve: 127.0.0.1 only; press Ctrl-C to stop\n');
      if (flags.open) osOpen(host.url).catch((e: unknown) => ctx.stderr.write(`tandem serve: could not open a browser (${describeError(e)}); open the URL above\n`));
      const h = host;
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.off('SIGINT', onInt);
          process.off('SIGTERM', onTerm);
          ctx.stderr.write(`tandem serve: ${signal}, stopping (running jobs are kept as interrupted and can be resumed)\n`);
          void Promise.allSettled([h.close(), service.close()]).then(() => resolve());
        };
        const onInt = () => stop('SIGINT');
        const onTerm = () => stop('SIGTERM');
        process.on('SIGINT', onInt);
        process.on('SIGTERM', onTerm);
      });
      ctx.setExitCode(0);
      // Worker threads of an interrupted job must not keep the process alive.
      process.exit(0);
    });
}
