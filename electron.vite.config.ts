// electron-vite builds the desktop app into out/: main (the main process, the engine's utility
// process entry and the worker threads), preload (CommonJS: sandboxed preloads cannot be ES
// modules) and renderer. Forge packages out/ (forge.config.ts).
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import { WORKER_ENTRIES } from './native/engine/node/worker-entries.mjs';

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'electron/main/index.ts'),
          // The engine (API service) in Electron's utilityProcess (electron/main/engine-link.ts forks it).
          'engine-host': resolve(__dirname, 'native/hosts/electron-utility/utility-entry.ts'),
          // Worker threads, spawned by name next to the code that starts them (native/engine/node/spawn-worker.ts):
          // the one registry every build reads.
          ...Object.fromEntries(Object.entries(WORKER_ENTRIES).map(([name, src]) => [name, resolve(__dirname, src)])),
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
