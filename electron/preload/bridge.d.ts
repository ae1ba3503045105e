/**
 * The renderer-visible bridge, `window.tandem`, exposed by the preload (contextBridge). It carries
 * the typed API contract (native/engine/common/api-contract.ts) over IPC:
 *
 * - `invoke(method, input)` resolves to the same envelope the web host sends over HTTP:
 *   `{ result: ApiOutput<method> }` or `{ error: WireError }` (errors never reject the promise,
 *   because Electron's IPC keeps only an Error's message).
 * - `on(event, cb)` subscribes to one contract event (`API_EVENTS`: `job.updated`, `job.event`,
 *   `models.progress`, `map.progress`, ...) and returns the unsubscribe function. Main validates
 *   every `invoke` against the contract (electron/main/ipc-validate.ts) before the engine sees it.
 */
export interface TandemBridge {
  invoke(method: string, input: unknown): Promise<unknown>;
  on(event: string, cb: (data: unknown) => void): () => void;
}

declare global {
  interface Window {
    tandem?: TandemBridge;
  }
}
