// electron-vite builds the desktop app into out/: main (the main process, the engine's utility
// process entry and the worker threads), preload (CommonJS: sandboxed preloads cannot be ES
// modules) and renderer. Forge packages out/ (forge.config.ts).
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'electron/main/index.ts'),
          // The engine (API service) in Electron's utilityProcess (electron/main/engine-link.ts forks it).
          'engine-host': resolve(__dirname, 'native/host/utility-entry.ts'),
          // Worker threads, spawned by name next to the code that starts them (native/engine/node/spawn-worker.ts).
          'embed-worker': resolve(__dirname, 'native/inference/embed-worker.ts'),
          'onnx-runner': resolve(__dirname, 'native/inference/onnx-runner.ts'),
          'scan-worker': resolve(__dirname, 'native/search/scan-worker.ts'),
          'pdf-worker': resolve(__dirname, 'native/ingest/pdf-worker.ts'),
          'ann-worker': resolve(__dirname, 'native/search/ann-worker.ts'),
          'map-worker': resolve(__dirname, 'native/map/map-worker.ts'),
        },
        external: ['onnxruntime-node', 'better-sqlite3', 'hnswlib-node'],
        // Shared chunks sit beside the entries (not in chunks/), so `new URL('./<worker>.js', import.meta.url)` finds the workers from any chunk.
        output: { chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve(__dirname, 'electron/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'renderer'),
    build: { outDir: 'out/renderer', rollupOptions: { input: { index: resolve(__dirname, 'renderer/index.html') } } },
    plugins: [react()],
  },
});
