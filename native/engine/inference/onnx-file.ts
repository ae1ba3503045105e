import fs from 'node:fs';
import path from 'node:path';
import { isTandemError, TandemError } from '../common/errors.js';
import { modelSearchDirs } from '../node/paths.js';
import type { Catalog } from '../models/catalog.js';
import { resolveModel } from '../models/model-resolver.js';

/**
 * The .onnx file a user means: a file path; a folder holding `model.onnx` or `onnx/model.onnx`;
 * or a model id found in the model directories (its default variant). NOT_FOUND otherwise.
 */
export function resolveOnnxFile(spec: string, env: NodeJS.ProcessEnv, catalog?: Catalog): string {
  if (fs.existsSync(spec)) {
    const abs = path.resolve(spec);
    if (!fs.statSync(abs).isDirectory()) return abs;
    for (const rel of ['model.onnx', path.join('onnx', 'model.onnx')]) {
      if (fs.existsSync(path.join(abs, rel))) return path.join(abs, rel);
    }
    throw new TandemError('NOT_FOUND', `folder ${abs} holds no model.onnx or onnx/model.onnx; give the .onnx file itself`);
  }
  try {
    const m = resolveModel(spec, { env, ...(catalog ? { catalog } : {}) });
    const variant = m.defaultVariant === 'static' ? (['fp32', 'int8', 'fp16'] as const).find((v) => m.variants[v]) : m.defaultVariant;
    const file = variant ? m.variants[variant] : undefined;
    if (file) return file;
  } catch (e) {
    if (!isTandemError(e, 'MODEL_NOT_FOUND') && !isTandemError(e, 'INVALID_ARGUMENT') && !isTandemError(e, 'MODEL_INVALID')) throw e;
  }
  throw new TandemError('NOT_FOUND', `no file ${spec}, and no model with that id has ONNX weights in ${modelSearchDirs(env).join(', ')}`, { data: { path: spec } });
}
