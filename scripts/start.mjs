// `npm start`: open the desktop app with electron-vite when an Electron binary is installed
// (`npm start -- --preview` runs the production build instead of the dev server); otherwise (or with
// `npm start -- --web`) say so in one line and open the same UI in the default browser through the
// local web host (`tandem serve --open`), serving until Ctrl-C. TANDEM_NO_OPEN=1: serve, open nothing.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
let electronPath;
try {
  electronPath = require('electron');
} catch {
  electronPath = undefined;
}
const web = process.argv.includes('--web');
if (web || typeof electronPath !== 'string' || !fs.existsSync(electronPath)) {
  // The same UI through the local web host (`tandem serve --open`) in the default browser, until Ctrl-C.
  console.log(
    web
      ? 'tandem: --web: opening the UI in your browser through the local web host (the desktop window opens without --web).'
      : 'tandem: the desktop window needs the Electron binary, which is not installed here (installed offline or with ELECTRON_SKIP_BINARY_DOWNLOAD=1; get it with network access: `npm rebuild electron`), so the same UI opens in your browser through the local web host (`npx tandem serve --open`); Ctrl-C stops it.',
  );
  const open = process.env.TANDEM_NO_OPEN === '1' ? [] : ['--open'];
  // POSIX: its own process group, so a Ctrl-C in the terminal reaches this script only, which passes
  // it on once (two SIGINTs would cut the host's clean stop short); stdin stays the terminal (Enter: a
  // new link). Windows delivers Ctrl-C to every process of the console itself.
  const posix = process.platform !== 'win32';
  const child = spawn(process.execPath, [fileURLToPath(new URL('../bin/tandem.js', import.meta.url)), 'serve', ...open], { stdio: 'inherit', detached: posix });
  const forward = (signal) => () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  process.on('SIGINT', posix ? forward('SIGINT') : () => {});
  process.on('SIGTERM', forward('SIGTERM'));
  process.on('SIGHUP', forward('SIGTERM'));
  process.on('exit', () => forward('SIGTERM')());
  child.on('error', (e) => {
    console.error(`tandem: cannot start the web host: ${e.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  // package.json has no "main": the entry is the built main process (electron.vite.config.ts -> out/main/).
  const mode = process.argv.includes('--preview') ? 'preview' : 'dev';
  const r = spawnSync(process.execPath, [require.resolve('electron-vite/bin/electron-vite.js'), mode, '--entry', 'out/main/index.js'], { stdio: 'inherit' });
  process.exit(r.status ?? 0);
}
