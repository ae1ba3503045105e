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
          'embed-worker': resolve(__dirname, 'native/inference/embed-worker.ts'),
          'onnx-runner': resolve(__dirname, 'native/inference/onnx-runner.ts'),
          'scan-worker': resolve(__dirname, 'native/search/scan-worker.ts'),
          'ann-worker': resolve(__dirname, 'native/search/ann-worker.ts'),
        },
        external: ['onnxruntime-node', 'better-sqlite3', 'hnswlib-node'],
      },
    },
  },
  preload: {
    build: { outDir: 'out/preload', rollupOptions: { input: { index: resolve(__dirname, 'electron/preload/index.ts') } } },
  },
  renderer: {
    root: resolve(__dirname, 'renderer'),
    build: { outDir: 'out/renderer', rollupOptions: { input: { index: resolve(__dirname, 'renderer/index.html') } } },
    plugins: [react()],
  },
});
