// Lint rules, including the layering rules: the engine never imports Electron or React; the
// renderer never imports Node or engine internals (only native/engine/common).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const engineOnly = {
  paths: [
    { name: 'electron', message: 'The engine is plain Node: Electron code lives in electron/.' },
    { name: 'react', message: 'The engine has no UI code.' },
    lancedbPeer(),
  ],
};

/** @lancedb/lancedb is a devDependency for bench/ingest-bench.ts's peer row only: never in shipped code. */
function lancedbPeer() {
  return { name: '@lancedb/lancedb', message: 'LanceDB is the ingest benchmark\'s peer (bench/ingest-bench.ts), a devDependency: shipped code never imports it.' };
}

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
    files: ['native/**/*.ts', 'cloud-adapters/**/*.ts', 'cloud-emulator/**/*.ts', 'models/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', engineOnly] },
  },
  {
    // the benchmark that compares against LanceDB may import it
    files: ['bench/ingest-bench.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: engineOnly.paths.filter((p) => p.name !== '@lancedb/lancedb') }] },
  },
  {
    files: ['electron/**/*.ts', 'scripts/**/*.{js,mjs}', '*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [lancedbPeer()] }] },
  },
  {
    files: ['native/engine/common/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { ...engineOnly, patterns: [{ group: ['node:*'], message: 'common/ is pure: no Node, no DOM.' }] }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'os', 'child_process'], message: 'The renderer has no Node access.' },
            { group: ['**/native/*', '!**/native/engine', '**/native/engine/*', '!**/native/engine/common'], message: 'The renderer imports only native/engine/common.' },
            { group: ['electron'], message: 'The renderer talks to the app through window.tandem only.' },
            { group: ['@lancedb/*'], message: lancedbPeer().message },
          ],
        },
      ],
    },
  },
);
