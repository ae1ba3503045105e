// Bundles the headless hosts (CLI, embedding worker) into dist/ with esbuild. Dependencies stay
// in node_modules (native addons and their shared libraries cannot be bundled).
import { build } from 'esbuild';

await build({
  entryPoints: {
    cli: 'native/cli/bin.ts',
    'embed-worker': 'native/inference/embed-worker.ts',
    'onnx-runner': 'native/inference/onnx-runner.ts',
    'scan-worker': 'native/search/scan-worker.ts',
    'pdf-worker': 'native/ingest/pdf-worker.ts',
    'ann-worker': 'native/search/ann-worker.ts',
    'generate-worker': 'native/generate/generate-worker.ts',
    'map-worker': 'native/map/map-worker.ts',
  },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
