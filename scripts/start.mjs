// `npm start`: open the desktop app with electron-vite when an Electron binary is installed;
// otherwise say so and point at the headless hosts.
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
      'so the desktop window cannot open. Everything else works headless:',
      '  npx tandem --help        the CLI (embed, models, doctor)',
      '  npx tandem doctor        what this machine can run',
      'To get the desktop app, reinstall electron with network access: npm rebuild electron',
    ].join('\n'),
  );
  const r = spawnSync(process.execPath, ['bin/tandem.js', 'doctor'], { stdio: 'inherit' });
  process.exit(r.status ?? 0);
}
const r = spawnSync(process.execPath, [require.resolve('electron-vite/bin/electron-vite.js'), 'dev'], { stdio: 'inherit' });
process.exit(r.status ?? 0);
