/**
 * The main window with secure defaults: context isolation, the sandbox, no Node in the page, web
 * security on; no navigation away from the app and no new windows (https links open in the
 * browser); permission requests denied.
 */
import { BrowserWindow, shell } from 'electron';
import { APP_URL } from './app-protocol';
import { isAppUrl } from './ipc-validate';

export function createMainWindow(opts: { preload: string; devUrl?: string }): BrowserWindow {
  const win = new BrowserWindow({
    width: 1320,
    height: 860,
    minWidth: 760,
    minHeight: 520,
    show: false,
    title: 'Tandem',
    webPreferences: {
      preload: opts.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.webContents.on('will-navigate', (e, url) => {
    if (!isAppUrl(url, opts.devUrl)) e.preventDefault();
  });
  win.webContents.on('will-redirect', (e, url) => {
    if (!isAppUrl(url, opts.devUrl)) e.preventDefault();
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.session.setPermissionRequestHandler((_wc, _permission, cb) => cb(false));
  void win.loadURL(opts.devUrl ?? APP_URL);
  return win;
}
