#!/usr/bin/env node
// The `tandem` command. Runs the bundle in dist/ (built by `npm install` through the prepare
// script, or `npm run build`); falls back to the TypeScript sources through tsx when absent.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/cli.js', import.meta.url);
if (existsSync(bundle)) {
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api').catch(() => {
    process.stderr.write('tandem: dist/cli.js is missing and tsx is not installed; run `npm install` (or `npm run build`) in the project folder\n');
    process.exit(1);
  });
  register();
  await import(new URL('../native/hosts/cli/bin.ts', import.meta.url).href);
}
