// Bundles the headless hosts (CLI, embedding worker) into dist/ with esbuild. Dependencies stay
// in node_modules (native addons and their shared libraries cannot be bundled).
import { build } from 'esbuild';
import { WORKER_ENTRIES } from '../native/engine/node/worker-entries.mjs';

await build({
  entryPoints: { cli: 'native/hosts/cli/bin.ts', ...WORKER_ENTRIES },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
