// Runs every *.test.ts under the source folders with node's test runner (through tsx).
// Node 20's --test does not expand globs, so we list the files here. Extra args filter by substring.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const roots = ['native', 'models', 'cloud-adapters', 'cloud-emulator', 'electron', 'renderer', 'scripts'];
const filters = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const e of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== 'node_modules') walk(p);
    else if (/\.test\.tsx?$/.test(e.name) && (filters.length === 0 || filters.some((f) => p.includes(f)))) files.push(p);
  }
};
roots.forEach(walk);
files.sort();
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
