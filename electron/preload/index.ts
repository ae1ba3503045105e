/**
 * The only bridge from the renderer to the app: one object, `tandem`, carrying the typed API
 * contract over IPC (see bridge.d.ts). No raw ipcRenderer is exposed. The main process answers
 * `tandem:invoke` with `{ result }` or `{ error }` and forwards engine events on `tandem:event`.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { TandemBridge } from './bridge';

const bridge: TandemBridge = {
  invoke: (method, input) => ipcRenderer.invoke('tandem:invoke', String(method), input) as Promise<unknown>,
  on: (event, cb) => {
    const listener = (_e: IpcRendererEvent, name: unknown, data: unknown) => {
      if (name === event) cb(data);
    };
    ipcRenderer.on('tandem:event', listener);
    return () => void ipcRenderer.off('tandem:event', listener);
  },
};

contextBridge.exposeInMainWorld('tandem', bridge);
