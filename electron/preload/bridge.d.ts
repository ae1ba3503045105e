/** The renderer-visible API (grows with the typed engine contract in issue 5). */
export interface TandemBridge {
  version(): Promise<string>;
}

declare global {
  interface Window {
    tandem?: TandemBridge;
  }
}
