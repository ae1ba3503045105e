// `npm start`: open the desktop app with electron-vite when an Electron binary is installed
// (`npm start -- --preview` runs the production build instead of the dev server); otherwise say so
// and point at the headless hosts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let electronPath;
try {
  electronPath = require('electron');
} catch {
  electronPath = undefined;
}
if (typeof electronPath !== 'string' || !fs.existsSync(electronPath)) {
  console.log(
    [
      'tandem: no Electron binary is installed here (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1, or offline),',
      'so the desktop window cannot open. The same UI runs in your browser, and everything else works headless:',
      '  npx tandem serve --open  the desktop UI in the browser (a web host on 127.0.0.1 behind a session token)',
      '  npx tandem --help        the CLI (index, search, jobs, models, cloud)',
      '  npx tandem doctor        what this machine can run',
      'To get the desktop app, reinstall electron with network access: npm rebuild electron',
    ].join('\n'),
  );
  const r = spawnSync(process.execPath, ['bin/tandem.js', 'doctor'], { stdio: 'inherit' });
  process.exit(r.status ?? 0);
}
// package.json has no "main": the entry is the built main process (electron.vite.config.ts -> out/main/).
const mode = process.argv.includes('--preview') ? 'preview' : 'dev';
const r = spawnSync(process.execPath, [require.resolve('electron-vite/bin/electron-vite.js'), mode, '--entry', 'out/main/index.js'], { stdio: 'inherit' });
process.exit(r.status ?? 0);
