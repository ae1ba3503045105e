/** The application menu: File (add a folder, cloud tokens, quit), Edit, View (reload and devtools in development only), Help. */
import { app, Menu, type MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  dev: boolean;
  addFolder(): void;
  pasteToken(envVar: string, label: string): void;
  forgetTokens(): void;
  about(): void;
}

export function buildMenu(a: MenuActions): Menu {
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Add Folder…', accelerator: 'CmdOrCtrl+O', click: () => a.addFolder() },
        { type: 'separator' },
        {
          label: 'Cloud Tokens',
          submenu: [
            { label: 'Paste Modal Token from Clipboard', click: () => a.pasteToken('TANDEM_MODAL_TOKEN', 'Modal') },
            { label: 'Paste Cloud Run Token from Clipboard', click: () => a.pasteToken('TANDEM_CLOUDRUN_TOKEN', 'Cloud Run') },
            { type: 'separator' },
            { label: 'Forget Cloud Tokens', click: () => a.forgetTokens() },
          ],
        },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit', label: 'Quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        ...(a.dev ? [{ role: 'reload' as const }, { role: 'forceReload' as const }, { role: 'toggleDevTools' as const }, { type: 'separator' as const }] : []),
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'help', submenu: [{ label: `About ${app.getName()}`, click: () => a.about() }] },
  ];
  return Menu.buildFromTemplate(template);
}
