import { InvalidArgumentError } from 'commander';

/** What a command may touch of the outside world: passed in, never global. */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  setExitCode(code: number): void;
}

export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${v}"`);
  return n;
}

export function choice<T extends string>(allowed: readonly T[]): (v: string) => T {
  return (v: string) => {
    if (!(allowed as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}, got "${v}"`);
    return v as T;
  };
}
