/**
 * Electron main process: one instance, one window, the menu, the lifecycle, and handing each page
 * its channel to the engine. Nothing heavy runs here: the engine (store, jobs, search, cloud)
 * runs in a plain Node process shipped with the app (a utilityProcess where none is; engine-link.ts,
 * native/hosts/electron-utility/utility-entry.ts), inference and maps in its worker threads.
 *
 * page --ipc 'tandem:connect'--> main: the sender is the app's page? (once, ipc-validate.ts isAppUrl)
 * main --'tandem:port' [MessagePort]--> page; the other end goes to the engine (electron/README.md)
 * page <--RPC envelope (calls, results, errors, events, cancels; native/engine/common/rpc.ts)--> engine
 */
import path from 'node:path';
import { app, BrowserWindow, clipboard, dialog, ipcMain, Menu, MessageChannelMain, safeStorage, session, shell } from 'electron';
import { tandemHome } from '../../native/engine/node/paths';
import { collectionNameFor, cspFor } from './app-files';
import { registerAppScheme, serveRenderer } from './app-protocol';
import { resolveEngineNode } from './engine-channel';
import { startEngine, type EngineLink } from './engine-link';
import { isAppUrl } from './ipc-validate';
import { buildMenu } from './menu';
import { TokenStore } from './token-store';
import { createMainWindow } from './window';
import { openTarget } from './open-target';

const here = import.meta.dirname;
const devUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const log = (line: string): void => console.log(`[tandem] ${line}`);

let engine: EngineLink | undefined;
let quitting = false;

function mainWindow(): BrowserWindow | undefined {
  return BrowserWindow.getAllWindows()[0];
}

function openWindow(): BrowserWindow {
  return createMainWindow({ preload: path.join(here, '../preload/index.cjs'), ...(devUrl ? { devUrl } : {}) });
}

async function addFolder(): Promise<void> {
  const win = mainWindow();
  const opts = { title: 'Add a folder to the library', properties: ['openDirectory' as const, 'multiSelections' as const] };
  const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts);
  if (r.canceled || r.filePaths.length === 0 || !engine) return;
  const res = await engine.call('library.index', { paths: r.filePaths, collection: collectionNameFor(r.filePaths[0]!) });
  if ('error' in res) dialog.showErrorBox('Could not add the folder', `${res.error.code}: ${res.error.message}`);
  else await win?.webContents.executeJavaScript("location.hash = '#/library'");
}

function pasteToken(tokens: TokenStore, envVar: string, label: string): void {
  const value = clipboard.readText().trim();
  if (!value) {
    void dialog.showMessageBox({ type: 'info', message: `Copy your ${label} token first, then choose this again.` });
    return;
  }
  try {
    engine?.setTokens(tokens.set(envVar, value));
    clipboard.clear();
    void dialog.showMessageBox({ type: 'info', message: `${label} token stored, ${tokens.protection()} (${tokens.file}). The clipboard was cleared.` });
  } catch (e) {
    dialog.showErrorBox(`Could not store the ${label} token`, e instanceof Error ? e.message : String(e));
  }
}

function about(home: string): void {
  void dialog.showMessageBox({
    type: 'info',
    title: `About ${app.getName()}`,
    message: `${app.getName()} ${app.getVersion()}`,
    detail: `Local embeddings, semantic search and cloud offload for researchers.\nElectron ${process.versions.electron}, Node ${process.versions.node}\nData: ${home}`,
  });
}

function start(): void {
  const home = tandemHome(process.env);
  const tokens = new TokenStore(home, safeStorage);
  const csp = cspFor(devUrl);
  session.defaultSession.webRequest.onHeadersReceived((details, cb) => {
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, cb) => cb(false));
  serveRenderer(path.join(here, '../renderer'), csp);

  // The engine runs under the plain Node binary shipped in resources/engine-node (system malloc:
  // onnxruntime's aligned allocations never reach Chromium's PartitionAlloc; electron/README.md).
  const node = resolveEngineNode({ resourcesPath: app.isPackaged ? process.resourcesPath : undefined, env: process.env });
  engine = startEngine({
    entry: path.join(here, 'engine-host.js'),
    nodePath: node.path,
    nodeWhy: node.why,
    env: { ...process.env, TANDEM_HOME: home },
    tokens: tokens.load((why) => log(why)),
    log,
    // files.open: opened here with the OS's default application, never through a shell command line
    // A PDF hit's page where the platform's opener takes one (open-target.ts); the file itself otherwise or if that fails.
    openFile: (file, page) => {
      const t = openTarget(file, page);
      return t.kind === 'url' ? shell.openExternal(t.url).then(() => '', () => shell.openPath(file)) : shell.openPath(file);
    },
    // the engine stopped: each page's pending and later calls fail with this error
    onEnded: (error) => {
      for (const w of BrowserWindow.getAllWindows()) w.webContents.send('tandem:ended', error);
    },
  });

  // A page asks for its channel once per load (preload/index.ts): the sender is checked here, once;
  // its calls then go to the engine over the port without passing through this process's handlers.
  ipcMain.on('tandem:connect', (e) => {
    if (!e.senderFrame || !isAppUrl(e.senderFrame.url, devUrl)) {
      log(`refused an engine channel to ${e.senderFrame?.url ?? 'an unknown frame'}: only the Tandem window may call the engine`);
      return;
    }
    if (!engine) return;
    const { port1, port2 } = new MessageChannelMain();
    engine.connectRenderer(port1);
    e.sender.postMessage('tandem:port', null, [port2]);
  });

  Menu.setApplicationMenu(
    buildMenu({
      dev: !app.isPackaged,
      addFolder: () => void addFolder().catch((err: unknown) => dialog.showErrorBox('Could not add the folder', String(err))),
      pasteToken: (envVar, label) => pasteToken(tokens, envVar, label),
      forgetTokens: () => {
        tokens.clear();
        engine?.setTokens({});
      },
      about: () => about(home),
    }),
  );
  openWindow();
}

registerAppScheme();
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const win = mainWindow();
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  // No webview, no new windows, from any web contents.
  app.on('web-contents-created', (_e, wc) => {
    wc.on('will-attach-webview', (ev) => ev.preventDefault());
    wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
  void app.whenReady().then(() => {
    start();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) openWindow();
    });
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  // Close the engine gracefully first: running jobs become `interrupted` (resumable), the store closes.
  app.on('before-quit', (e) => {
    if (quitting || !engine) return;
    e.preventDefault();
    quitting = true;
    void engine.close().finally(() => app.quit());
  });
}
