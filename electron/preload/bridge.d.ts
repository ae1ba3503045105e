/**
 * The renderer-visible bridge, `window.tandem`, exposed by the preload (contextBridge): one end of
 * the page's channel to the engine, as a port of the RPC layer (native/engine/common/rpc.ts
 * `PortLike`). The renderer's client (renderer/src/api) speaks the envelope over it: `post` a
 * `call`/`cancel`, receive `result`/`error`/`event` (contract events: `job.updated`, `job.event`,
 * `models.progress`, `map.progress`, ...) and `end` when the engine stopped. Main checked once
 * that this page is the app's (electron/main/ipc-validate.ts isAppUrl); the engine validates
 * every call against the contract.
 */
export interface TandemBridge {
  post(msg: unknown): void;
  onMessage(cb: (msg: unknown) => void): () => void;
}

declare global {
  interface Window {
    tandem?: TandemBridge;
  }
}
