import { spawn } from 'node:child_process';
import { TandemError } from '../engine/common/errors.js';

/** The command that opens a file or URL with the user's default application. */
export function openCommand(target: string, platform: NodeJS.Platform = process.platform): { cmd: string; args: string[] } {
  if (platform === 'darwin') return { cmd: 'open', args: [target] };
  if (platform === 'win32') return { cmd: 'cmd', args: ['/c', 'start', '""', target] };
  return { cmd: 'xdg-open', args: [target] };
}

/** Open `target` (a path or URL) with the OS opener; resolves once the opener started. */
export function osOpen(target: string, platform: NodeJS.Platform = process.platform): Promise<void> {
  const { cmd, args } = openCommand(target, platform);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.once('error', (e) => reject(new TandemError('NOT_FOUND', `cannot run ${cmd} to open files here: ${e.message}`)));
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
