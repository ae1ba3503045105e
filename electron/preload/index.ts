/**
 * The only bridge from the renderer to the app: one object, `tandem`, a port to the engine (see
 * bridge.d.ts). No raw ipcRenderer is exposed. On load the preload asks main for the page's channel
 * (`tandem:connect`); main checks the sender once and answers `tandem:port` with a MessagePort whose
 * other end the engine serves. Messages posted before it arrives are queued. `tandem:ended` (the
 * engine stopped) becomes an RPC `end` message, so pending calls fail with main's reason.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { TandemBridge } from './bridge';

const listeners = new Set<(msg: unknown) => void>();
const queue: unknown[] = [];
type RendererPort = IpcRendererEvent['ports'][number];
let port: RendererPort | null = null;
const deliver = (msg: unknown): void => {
  for (const cb of [...listeners]) cb(msg);
};

ipcRenderer.on('tandem:port', (e: IpcRendererEvent) => {
  const p = e.ports[0];
  if (!p || port) return;
  port = p;
  p.onmessage = (ev: { data: unknown }) => deliver(ev.data);
  for (const m of queue.splice(0)) p.postMessage(m);
});
ipcRenderer.on('tandem:ended', (_e: IpcRendererEvent, error: unknown) => deliver({ rpc: 'end', error }));
ipcRenderer.send('tandem:connect');

const bridge: TandemBridge = {
  post: (msg) => {
    if (port) port.postMessage(msg);
    else queue.push(msg);
  },
  onMessage: (cb) => {
    listeners.add(cb);
    return () => void listeners.delete(cb);
  },
};

contextBridge.exposeInMainWorld('tandem', bridge);
