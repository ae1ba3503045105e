// Lint rules. The layering rules (what each folder may import: the engine's areas, the hosts, the
// renderer; which packages where; SQL only in the store) are generated per directory from the one
// table in scripts/layers.mjs; scripts/layers.test.ts checks them on deliberately wrong imports.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { layerConfigs } from './scripts/layers.mjs';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', 'scratch/', 'test-results/', 'playwright-report/', '.vite/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // root config files (electron.vite.config.ts, forge.config.ts, ...)
    files: ['*.ts', '*.js', '*.mjs'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: '@lancedb/lancedb', message: "LanceDB is the ingest benchmark's peer (bench/ingest-bench.ts) only." }] }] },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  ...layerConfigs(),
);
