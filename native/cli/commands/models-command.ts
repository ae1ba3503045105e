import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';

export function registerModels(program: Command, _ctx: CliContext): void {
  program.command('models').description('list | pull | import | verify models');
}
