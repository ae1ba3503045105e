import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { createEngine } from '../../../engine/index.js';
import { describeError } from '../../../engine/common/errors.js';
import { osOpen } from '../../web/os-open.js';
import { MINTED_CODE_TTL_MS, startWebHost } from '../../web/web-host.js';
import type { CliContext } from '../cli-context.js';

/** The built renderer: dist/renderer beside the CLI bundle (dist/cli.js), or from the sources. */
export function defaultRendererDir(): string {
  const candidates = [new URL('./renderer/', import.meta.url), new URL('../../../../dist/renderer/', import.meta.url)];
  const found = candidates.find((c) => fs.existsSync(new URL('index.html', c)));
  return fileURLToPath(found ?? candidates[candidates.length - 1]!);
}

/**
 * A page that forwards the browser to `url` (which carries a one-time code), written to a private
 * temporary folder (0700, file 0600): the browser is started with this file's path, so the code is
 * never in any process's argv. Returns the file and a function that removes the folder.
 */
export function writeOpenPage(url: string, tmpRoot = os.tmpdir()): { file: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(tmpRoot, 'tandem-open-'));
  fs.chmodSync(dir, 0o700);
  const file = path.join(dir, 'open-tandem.html');
  const href = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  fs.writeFileSync(file, `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${href}"><title>Opening Tandem</title><p><a href="${href}">Open Tandem</a></p>\n`, { mode: 0o600 });
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
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
      const service = createEngine({
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
      const tty = process.stdin.isTTY === true;
      ctx.stderr.write(`tandem serve: 127.0.0.1 only; the link works once (the tab keeps its session)${tty ? '; press Enter for a new link' : ''}; press Ctrl-C to stop\n`);
      const h = host;
      let openPage: { file: string; remove: () => void } | undefined;
      if (flags.open) {
        // A code of its own, handed over in a private file: never in argv, never in a server log.
        openPage = writeOpenPage(h.newCode(MINTED_CODE_TTL_MS).url);
        const page = openPage;
        setTimeout(() => page.remove(), MINTED_CODE_TTL_MS).unref();
        osOpen(page.file).catch((e: unknown) => ctx.stderr.write(`tandem serve: could not open a browser (${describeError(e)}); open the URL above\n`));
      }
      const onLine = () => ctx.stdout.write(`New one-time link: ${h.newCode().url}\n`);
      if (tty) {
        process.stdin.setEncoding('utf8');
        process.stdin.on('data', onLine);
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.off('SIGINT', onInt);
          process.off('SIGTERM', onTerm);
          if (tty) process.stdin.off('data', onLine).pause();
          openPage?.remove();
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
