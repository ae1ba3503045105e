// The one list of engine worker entries (name -> source), imported by every build: the CLI bundle
// (scripts/build-cli.mjs), the desktop bundle (electron.vite.config.ts) and the registry test.
// A worker is started by name next to the code that spawns it (spawn-worker.ts), so each build must
// emit every entry here beside its main chunk. Add a worker here, and only here.
export const WORKER_ENTRIES = {
  'embed-worker': 'native/engine/inference/embed-worker.ts',
  'onnx-runner': 'native/engine/inference/onnx-runner.ts',
  'scan-worker': 'native/engine/search/scan-worker.ts',
  'pdf-worker': 'native/engine/ingest/pdf-worker.ts',
  'docx-worker': 'native/engine/ingest/docx-worker.ts',
  'ann-worker': 'native/engine/search/ann-worker.ts',
  'generate-worker': 'native/engine/generate/generate-worker.ts',
  'map-worker': 'native/engine/map/map-worker.ts',
};
