import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `../shared` beside the project (or `TANDEM_SHARED_DIR`). Tests that need it call `needShared(t)`
 * and are skipped, saying why, where it is absent.
 */
export function sharedDir(): string | undefined {
  const explicit = process.env.TANDEM_SHARED_DIR;
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const dir = explicit ? path.resolve(explicit) : path.resolve(root, '..', 'shared');
  return fs.existsSync(path.join(dir, 'models')) ? dir : undefined;
}

export const SHARED_SKIP_REASON = 'skipped: ../shared (models and datasets) is absent on this machine';

/** Returns the shared dir, or a `skip` option for node:test when it is absent. */
export function sharedOrSkip(): { shared: string; skip: false } | { shared: ''; skip: string } {
  const s = sharedDir();
  return s ? { shared: s, skip: false } : { shared: '', skip: SHARED_SKIP_REASON };
}

/** STS-B test pairs: [sentence1, sentence2, score]. */
export function readStsb(shared: string): Array<[string, string, number]> {
  const text = fs.readFileSync(path.join(shared, 'datasets', 'stsb', 'test.tsv'), 'utf8');
  return text
    .split('\n')
    .slice(1)
    .filter((l) => l.trim())
    .map((l) => {
      const [a = '', b = '', s = '0'] = l.split('\t');
      return [a, b, Number(s)];
    });
}
