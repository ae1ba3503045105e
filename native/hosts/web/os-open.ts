import { spawn } from 'node:child_process';
import { TandemError } from '../../engine/common/errors.js';

/** The environment variable that hands the target to PowerShell on Windows (never on a command line). */
export const OPEN_TARGET_ENV = 'TANDEM_OPEN_TARGET';

/** PowerShell: open $env:TANDEM_OPEN_TARGET with its default application (ShellExecute), literally. */
export const WINDOWS_OPEN_SCRIPT = `$i = New-Object System.Diagnostics.ProcessStartInfo; $i.FileName = $env:${OPEN_TARGET_ENV}; $i.UseShellExecute = $true; [void][System.Diagnostics.Process]::Start($i)`;

export interface OpenCommand {
  cmd: string;
  /** Passed as an argument array: no shell ever parses them. */
  args: string[];
  /** Extra environment variables for the opener. */
  env?: Record<string, string>;
}

/**
 * The command that opens a file or URL with the user's default application. Pure (the platform is
 * a parameter, so every branch is unit-tested on any machine).
 *
 * Windows: not `cmd /c start "" <path>`: cmd parses its command line, so a library file named
 * `a&calc&.pdf` would run calc (and `%VAR%`, `^`, `|`, `<`, `>` are special too, even quoted).
 * PowerShell hands the target to ShellExecute (.NET `Process.Start` with `UseShellExecute`, which
 * takes the file name literally: no wildcards, unlike `Start-Process`/`Invoke-Item -Path`), and the
 * target travels in an environment variable, so it is data, never code: the command line is the
 * same for every name.
 */
export function openCommand(target: string, platform: NodeJS.Platform = process.platform): OpenCommand {
  if (platform === 'darwin') return { cmd: 'open', args: [target] };
  if (platform === 'win32') {
    return {
      cmd: 'powershell.exe',
      args: ['-NoProfile', '-NonInteractive', '-WindowStyle', 'Hidden', '-Command', WINDOWS_OPEN_SCRIPT],
      env: { [OPEN_TARGET_ENV]: target },
    };
  }
  return { cmd: 'xdg-open', args: [target] };
}

/** Open `target` (a path or URL) with the OS opener; resolves once the opener started. */
export function osOpen(target: string, platform: NodeJS.Platform = process.platform): Promise<void> {
  const { cmd, args, env } = openCommand(target, platform);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true, shell: false, windowsHide: true, ...(env ? { env: { ...process.env, ...env } } : {}) });
    child.once('error', (e) => reject(new TandemError('NOT_FOUND', `cannot run ${cmd} to open files here: ${e.message}`)));
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
