// Builds what the specs run: the CLI bundle (dist/cli.js) and the renderer (dist/renderer/).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export default function globalSetup(): void {
  if (process.env.TANDEM_E2E_SKIP_BUILD) return;
  for (const args of [['scripts/build-cli.mjs'], ['node_modules/vite/bin/vite.js', 'build', '-c', 'vite.renderer.config.ts']]) {
    const r = spawnSync(process.execPath, args, { cwd: repoRoot, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`e2e setup: \`node ${args.join(' ')}\` failed (exit ${r.status})`);
  }
}
