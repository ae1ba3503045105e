import fs from 'node:fs';
import path from 'node:path';
import { modelSearchDirs } from '../node/paths.js';
import { findCatalogEntry, loadCatalog, type Catalog } from '../models/catalog.js';
import { BUILTIN_EMBEDDING_MODEL } from '../models/default-model.js';
import { describeModelDir, findModelDir, validateModelId } from '../models/model-resolver.js';

/**
 * Whether the local model that would answer a cloud job routed to this machine is on disk, checked
 * from its files without loading onnxruntime (the cloud layer stays light): a generator is a folder
 * with tokenizer.json and decoder weights (onnx-community layout, or the catalog's files), or a
 * one-step recurrent model (model.onnx + a char vocabulary); an embedding model is a folder the
 * model resolver accepts (the built-in one always is).
 */

export type LocalTask = 'generate' | 'embed';

/** Decoder weight files tried when the catalog names none (as native/engine/generate/generator-model.ts). */
const DECODER_FILES = ['onnx/model.onnx', 'model.onnx', 'onnx/model_quantized.onnx', 'onnx/model_int8.onnx', 'onnx/model_fp16.onnx'];

export function localModelInstalled(id: string, task: LocalTask, env: NodeJS.ProcessEnv, catalog: Catalog = loadCatalog()): boolean {
  try {
    validateModelId(id);
  } catch {
    return false;
  }
  const entry = findCatalogEntry(catalog, id);
  if (task === 'embed') {
    const dir = findModelDir(id, env);
    if (!dir) return false;
    try {
      const d = describeModelDir(id, dir, entry);
      return d.variants[d.defaultVariant] !== undefined;
    } catch {
      return false;
    }
  }
  const files = [...Object.values(entry?.variants ?? {}), ...DECODER_FILES];
  for (const root of modelSearchDirs(env)) {
    const dir = path.join(root, id);
    if (!fs.existsSync(dir)) continue;
    if (fs.existsSync(path.join(dir, 'tokenizer.json'))) return files.some((f) => typeof f === 'string' && fs.existsSync(path.join(dir, f)));
    if (['vocab.fixed.json', 'vocab.json'].some((f) => fs.existsSync(path.join(dir, f))) && fs.existsSync(path.join(dir, 'model.onnx'))) return true;
  }
  return false;
}

/** How to get a model onto this machine: `tandem models pull ID` for a catalog model, else an import. */
export function installHint(id: string, catalog: Catalog = loadCatalog()): string {
  return findCatalogEntry(catalog, id) ? `tandem models pull ${id}` : `tandem models import FOLDER --id ${id}`;
}

export { BUILTIN_EMBEDDING_MODEL };
