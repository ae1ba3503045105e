/** See worker-entries.mjs: worker name -> source path, relative to the repository root. */
export declare const WORKER_ENTRIES: Readonly<Record<string, string>>;
