import type { Command } from 'commander';
import { tandemHome } from '../../engine/node/paths.js';
import { openDatabase, openStoreForReading, storePath } from '../../store/database.js';
import { LibraryStore } from '../../store/library-store.js';
import type { CliContext } from '../cli-context.js';

function mib(b: number): string {
  return `${(b / 1024 ** 2).toFixed(1)} MiB`;
}

export function openLibrary(ctx: CliContext): LibraryStore {
  return new LibraryStore(openDatabase(storePath(tandemHome(ctx.env))));
}

/** The library opened read-only (search, list, show): works on a read-only TANDEM_HOME. */
export function openLibraryForReading(ctx: CliContext): LibraryStore {
  return new LibraryStore(openStoreForReading(tandemHome(ctx.env)));
}

export function registerCollections(program: Command, ctx: CliContext): void {
  const cmd = program.command('collections').description('list | show NAME | remove NAME');
  cmd
    .command('list')
    .option('--json', 'machine-readable output')
    .action((flags: { json?: boolean }) => {
      const lib = openLibraryForReading(ctx);
      const rows = lib.listCollections().map((c) => lib.stats(c));
      lib.db.close();
      if (flags.json) return void ctx.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      if (rows.length === 0) return void ctx.stdout.write('no collections yet: `tandem index PATH --collection NAME` creates one\n');
      for (const r of rows) ctx.stdout.write(`${r.name.padEnd(24)} ${String(r.documents).padStart(8)} docs ${String(r.chunks).padStart(9)} chunks  ${r.model} (${r.variant})  ${mib(r.storedBytes)}\n`);
    });
  cmd
    .command('show <name>')
    .option('--json', 'machine-readable output')
    .action((name: string, flags: { json?: boolean }) => {
      const lib = openLibraryForReading(ctx);
      try {
        const s = lib.stats(lib.requireCollection(name));
        if (flags.json) return void ctx.stdout.write(JSON.stringify(s, null, 2) + '\n');
        ctx.stdout.write(
          [
            `collection  ${s.name}`,
            `model       ${s.model} (${s.variant}), ${s.dims ?? '?'} dims`,
            `root        ${s.root ?? '-'}`,
            `documents   ${s.documents}`,
            `chunks      ${s.chunks}`,
            `models      ${s.models.join(', ') || '-'}`,
            `bytes       ${mib(s.sourceBytes)} source, ${mib(s.storedBytes)} stored (text + vectors)`,
            `created     ${s.createdAt}`,
          ].join('\n') + '\n',
        );
      } finally {
        lib.db.close();
      }
    });
  cmd
    .command('remove <name>')
    .action((name: string) => {
      const lib = openLibrary(ctx);
      try {
        lib.removeCollection(name);
        ctx.stdout.write(`removed collection ${name}\n`);
      } finally {
        lib.db.close();
      }
    });
}
