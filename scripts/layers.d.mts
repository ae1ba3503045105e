/** See layers.mjs: the one table of Tandem's layers, and the ESLint blocks generated from it. */
export interface Layer {
  dir: string;
  name: string;
  purpose: string;
  may: string[];
  bans: string[];
  sql?: boolean;
  shallow?: boolean;
  note?: string;
}
export declare const ROOT: string;
export declare const ENTRY: string;
export declare const PACKAGES: Record<string, { names: string[]; patterns?: string[]; message: string }>;
export declare const LAYERS: Layer[];
export declare const PENDING: { file: string; allow: string[]; reason: string }[];
export declare const PACKAGE_EXCEPTIONS: { file: string; allow: string[] }[];
export declare function layerOf(rel: string): Layer | undefined;
export declare function resolveImport(fromRel: string, spec: string): string;
export declare function admits(may: string[], target: string): boolean;
export declare function readmeBlock(layer: Layer): string;
export declare function describeMay(layer: Layer): string;
export declare function layerConfigs(): unknown[];
