// Puts the `tandem` command in node_modules/.bin (run by `prepare` after every npm install/ci).
//
// Why not package.json "bin": for a package's OWN bin, `npx tandem` has npm load the whole
// dependency tree (Arborist.loadActual) before it runs anything, about 0.2 s on every call here;
// with the command in node_modules/.bin and no "bin" field, npx runs it directly (measured:
// `npx --no-install tandem --help` 0.70 s -> 0.49 s).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const binDir = path.join(root, 'node_modules', '.bin');
const target = path.join(root, 'bin', 'tandem.js');
fs.mkdirSync(binDir, { recursive: true });
if (process.platform === 'win32') {
  fs.writeFileSync(path.join(binDir, 'tandem.cmd'), `@node "${target}" %*\r\n`);
} else {
  const link = path.join(binDir, 'tandem');
  fs.rmSync(link, { force: true });
  fs.symlinkSync(path.relative(binDir, target), link);
  fs.chmodSync(target, 0o755);
}
