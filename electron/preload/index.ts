/**
 * The only bridge from the renderer to the app: one object, `tandem`, with typed methods.
 * No raw ipcRenderer is exposed.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { TandemBridge } from './bridge';

const bridge: TandemBridge = {
  version: () => ipcRenderer.invoke('tandem:version') as Promise<string>,
};

contextBridge.exposeInMainWorld('tandem', bridge);
